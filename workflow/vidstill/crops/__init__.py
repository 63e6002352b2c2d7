"""The crop stage of the crop-and-concatenate method ("Enhancing Diversity and Realism", called OptDistill in its
text): detect actors on a video's first frame (detector.py), follow each with OpenCV's CSRT and cut a fixed-aspect
window around it in every frame (tracking.py, geometry.py), and score the cropped videos with the teacher
(scoring.py). methods/optdistill.py tiles the best crops of each class into mosaic videos."""
