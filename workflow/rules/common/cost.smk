# The cost table's job list: every job the configured tables stand on, with the benchmark, log and artifact paths
# that the rules themselves declare (rules.<name>), so those paths are never retyped.


def _job(stage, rule, artifact=None, method="", ipc=None, seed=None, job="", **wildcards):
    """One job behind the tables, for the cost table: its keys, its benchmark file and (distill / evaluate) the artifact
    where it records its peak GPU memory. Paths come from the rules' own declarations, never retyped here."""
    wc = {"method": method, "ipc": ipc, "seed": seed, **wildcards}
    return {
        "stage": stage,
        "dataset": wildcards.get("dataset", ""),
        "method": method,
        "ipc": ipc,
        "seed": seed,
        "job": job,
        "benchmark": str(rule.benchmark).format(**wc),
        "artifact": str(artifact).format(**wc) if artifact else None,
        "usage": str(rule.log[0]).format(**wc) + ".usage.json",
        "log": str(rule.log[0]).format(**wc),
    }


def cost_jobs():
    """Every job the configured tables stand on, once: data, ranking, teachers, experts, crops, each cell's distill and
    evaluate jobs (VDSD's shared stills and the hard / soft label protocols' evaluations included) and the Full
    Dataset rows."""
    jobs, needs = {}, {}

    def add(job):
        jobs.setdefault((job["stage"], job["dataset"], job["method"], job["ipc"], job["seed"], job["job"]), job)

    for spec in config["tables"].values():
        for dataset in spec["datasets"]:
            base = base_of(dataset)
            needs.setdefault(dataset, set())
            for seed in config["seeds"]:
                if spec.get("full", True):
                    add(
                        _job(
                            "evaluate_full",
                            rules.evaluate_full,
                            rules.evaluate_full.output[0],
                            method="full",
                            ipc=0,
                            seed=seed,
                            dataset=dataset,
                        )
                    )
                for method in spec["methods"]:
                    needs[dataset] |= set(method_needs(method))
                    for ipc in spec["ipc"]:
                        cell = dict(method=method, ipc=ipc, seed=seed, dataset=dataset)
                        add(_job("distill", rules.distill, rules.distill.output[0], **cell))
                        add(_job("evaluate", rules.evaluate, rules.evaluate.output[0], **cell))
                        only = config["evaluation"]["label_protocols"]["ipc"]
                        for labels in LABEL_PROTOCOLS:  # the hard / soft protocols' runs, as their own stages
                            if method in label_protocol_methods(labels, spec["methods"]) and (not only or ipc in only):
                                add(
                                    _job(
                                        f"evaluate_{labels}",
                                        rules.evaluate_labels,
                                        rules.evaluate_labels.output[0],
                                        labels=labels,
                                        **cell,
                                    )
                                )
                        if "stills" in method_needs(method):
                            stills = method_settings(method).stills
                            add(
                                _job(
                                    "distill",
                                    rules.distill,
                                    rules.distill.output[0],
                                    method=stills,
                                    ipc=STILLS_PER_ITEM * ipc,
                                    seed=seed,
                                    dataset=dataset,
                                )
                            )
            teachers = {DEFAULT_TEACHER} | {
                method_settings(m).teacher or DEFAULT_TEACHER for m in spec["methods"] if "teacher" in method_needs(m)
            }
            for name in sorted(teachers):
                add(_job("teacher", rules.teacher, job=name, dataset=dataset, teacher=name))
            # the ranking's teacher: the default one, on the base dataset
            add(_job("teacher", rules.teacher, job=DEFAULT_TEACHER, dataset=base, teacher=DEFAULT_TEACHER))
            if "experts" in needs[dataset]:
                for i in range(config["experts"]["count"]):
                    add(_job("expert", rules.expert, job=f"expert{i}", dataset=dataset, expert=i))
                add(_job("expert", rules.expert_check, job="check", dataset=dataset))
            if "crops" in needs[dataset]:
                for shard in range(config["crops"]["shards"]):
                    add(_job("crops", rules.crop_tracks, job=f"tracks{shard}", dataset=base, shard=shard))
                add(_job("crops", rules.crop_summary, job="summary", dataset=base))
                add(_job("crops", rules.crop_scores, job="scores", dataset=dataset))
                if not config["crops"]["detector"]["weights"]:
                    add(_job("crops", rules.crop_detector, job="detector", dataset=base))
            if DATASETS[base].get("layout") == "synthetic":
                add(_job("data", rules.generate_synthetic, job="generate", dataset=base))
            add(_job("data", rules.index, job="index", dataset=base))
            for split in ("train", "test"):
                add(_job("data", rules.extract_clips, job=f"clips_{split}", dataset=base, split=split))
                if dataset != base:
                    add(_job("data", rules.subset_clips, job=f"clips_{split}", dataset=dataset, split=split))
            if dataset != base:
                add(_job("data", rules.subset_index, job="index", dataset=dataset))
            for seed in config["ranking"]["seeds"]:
                for mode in ("full", "static") if seed != config["teacher"]["seed"] else ("static",):
                    add(
                        _job(
                            "ranking",
                            rules.class_accuracy,
                            job=f"{mode}_seed{seed}",
                            dataset=base,
                            mode=mode,
                            seed=seed,
                        )
                    )
            add(_job("ranking", rules.delta, job="delta", dataset=base))
    # sorted, so that reordering keys of the config file does not change this param (and rerun the cost table)
    return sorted(
        jobs.values(), key=lambda j: (j["stage"], j["dataset"], j["method"], j["ipc"] or 0, j["seed"] or 0, j["job"])
    )
