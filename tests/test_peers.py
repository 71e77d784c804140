"""The bench's peers (transformers' Trainer, sentence-transformers) on the sample data, a few steps.

Most runs use the tiny random BERT folder (fast); one per library loads the packaged MiniLM
folder, the one mtlab loads, to check that the peers start from the same weights.
"""

import socket

import pytest
import torch

pytestmark = pytest.mark.slow  # the slow tier, which installs the peers extra (make test-slow)

peers = pytest.importorskip("bench.peers", reason="needs the peers extra: make setup-peers")

from bench.peer_comparison import mtlab_run, peer_comparison  # noqa: E402
from bench.peers import (  # noqa: E402
    PeerConfig,
    StepClock,
    sentence_transformers_finetune,
    trainer_finetune,
)
from mtlab.data.datasets import SAMPLE_DIR, load_dataset  # noqa: E402
from mtlab.encoder import default_model_path  # noqa: E402
from mtlab.tasks import TASKS  # noqa: E402
from mtlab.training.config import TrainConfig  # noqa: E402


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread: these runs are tiny, and two threads on a busy machine wait on each other."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def sample(task, split="train"):
    return load_dataset(task, split, SAMPLE_DIR)


@pytest.fixture
def no_network(monkeypatch):
    """Every attempt to open a connection is recorded and refused."""
    attempts = []

    def refuse(self, address, *args):
        attempts.append(address)
        raise OSError("tests: no network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    return attempts


def small(folder, **changes):
    return PeerConfig(steps=2, untimed_steps=1, model_path=folder, **changes)


def test_the_peers_share_mtlabs_batch_size_rate_and_encoder_folder():
    config = PeerConfig()
    assert config.batch_size == TrainConfig().batch_size == 32
    assert config.lr == 2e-5  # the bench's mtlab finetune rate
    assert config.folder == str(default_model_path())


@pytest.mark.parametrize("task", ["sst", "quora"])
def test_the_trainer_trains_and_scores_dev(task, tiny_folder, no_network):
    run = trainer_finetune(task, sample(task), sample(task, "dev"), small(tiny_folder))
    assert run.peer == "transformers Trainer" and run.tasks == (task,)
    assert run.steps == 3 and run.batch_size == 32
    assert 0 <= run.scores[task] <= 1
    assert run.examples_per_second > 0 and run.seconds > 0
    assert run.model_path == str(tiny_folder)
    assert no_network == []


@pytest.mark.parametrize("task", ["sts", "quora"])
def test_sentence_transformers_trains_and_scores_dev(task, tiny_folder, no_network):
    run = sentence_transformers_finetune(
        task, sample(task), sample(task, "dev"), small(tiny_folder)
    )
    assert run.peer == "sentence-transformers" and run.steps == 3 and run.batch_size == 32
    low = -1 if task == "sts" else 0  # Pearson r, or accuracy
    assert low <= run.scores[task] <= 1
    assert run.examples_per_second > 0
    assert run.model_path == str(tiny_folder)
    if task == "quora":  # a cosine threshold picked on the training pairs
        assert run.notes["loss"] == "OnlineContrastiveLoss" and -1 <= run.notes["threshold"] <= 1
    else:
        assert run.notes["loss"] == "CoSENTLoss"
    assert no_network == []


def test_both_libraries_load_the_packaged_minilm_folder_that_mtlab_loads(no_network):
    one_step = PeerConfig(steps=1, untimed_steps=0)
    sst = trainer_finetune("sst", sample("sst"), sample("sst", "dev"), one_step)
    sts = sentence_transformers_finetune("sts", sample("sts"), sample("sts", "dev"), one_step)
    assert sst.model_path == sts.model_path == str(default_model_path())
    assert sst.steps == sts.steps == 1
    assert sts.scores["sts"] > 0.5  # MiniLM's cosine already tracks STS after one step
    assert no_network == []


def test_a_budget_stops_a_peer_before_its_steps(tiny_folder):
    config = PeerConfig(steps=10_000, untimed_steps=0, model_path=tiny_folder, budget_seconds=1)
    run = trainer_finetune("sst", sample("sst"), sample("sst", "dev"), config)
    assert 1 <= run.steps < 10_000 and run.seconds < 60


def test_the_clock_times_only_the_steps_after_the_untimed_ones():
    clock = StepClock(untimed_steps=1)
    clock.started, clock.ends = 0.0, [5.0, 6.0, 8.0]  # the first step is slow: not counted
    assert clock.examples_per_second(32) == pytest.approx(2 * 32 / 3)
    assert StepClock(0).examples_per_second(32) == 0.0  # no step: no rate


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"precision": "fp16"}, "precision must be one of"),
        ({"steps": 0}, "steps must be a whole number >= 1"),
        ({"untimed_steps": -1}, "untimed_steps must be a whole number >= 0"),
        ({"batch_size": 2.5}, "batch_size must be a whole number"),
        ({"lr": float("nan")}, "lr must be a finite number > 0"),
        ({"budget_seconds": 0}, "budget_seconds must be > 0"),
    ],
)
def test_a_bad_option_is_refused_before_anything_loads(changes, message):
    config = PeerConfig(model_path="/no/such/folder", **changes)
    with pytest.raises(ValueError, match=message):
        trainer_finetune("sst", sample("sst"), sample("sst", "dev"), config)


def test_each_peer_refuses_a_task_it_does_not_train():
    with pytest.raises(ValueError, match="Trainer peer trains sst or quora here, not 'sts'"):
        trainer_finetune("sts", sample("sts"), sample("sts", "dev"))
    with pytest.raises(ValueError, match="sentence-transformers peer trains sts or quora"):
        sentence_transformers_finetune("sst", sample("sst"), sample("sst", "dev"))


def test_mtlab_side_of_the_comparison_trains_one_task_alone(tiny_folder):
    run = mtlab_run({"sst": sample("sst")}, {"sst": sample("sst", "dev")}, small(tiny_folder))
    assert run.peer == "mtlab" and run.tasks == ("sst",) and run.steps == 3
    assert 0 <= run.scores["sst"] <= 1 and run.examples_per_second > 0


def test_the_bench_compares_every_peer_with_mtlab(tiny_folder):
    train = {task: sample(task) for task in TASKS}
    dev = {task: sample(task, "dev") for task in TASKS}
    table, runs = peer_comparison(train, train, dev, small(tiny_folder), budget_seconds=1)
    assert len(table) == 13
    figure, theirs, ours, ratio = table[-1]
    assert figure.startswith("padded / real tokens") and theirs >= 1 and ours >= 1
    times = [row for row in table if "training s" in row[0]]
    assert len(times) == 3 and all(ratio == peer / ours for _, peer, ours, ratio in times)
    assert {"Trainer sst", "mtlab sst", "ST sts", "mtlab multitask", "ST quora alone"} <= set(runs)
    assert runs["mtlab multitask"].tasks == TASKS
    assert runs["mtlab quora cross"].notes["quora"] == "cross"  # like for like: a cross-encoder
    assert 0 < runs["Trainer sst"].notes["sst top class share"] <= 1
    assert all(run.batch_size == 32 for run in runs.values())


def test_the_bench_refuses_an_empty_peer_budget(capsys):
    from bench.__main__ import main

    with pytest.raises(SystemExit):
        main(["--peers", "--peer-minutes", "0"])
    assert "--peer-minutes must be > 0, got 0.0" in capsys.readouterr().err


def test_the_peer_seed_reaches_every_contestant(monkeypatch, capsys):
    import bench.__main__ as bench_main

    seen = []
    monkeypatch.setattr(bench_main, "peer_comparison",
                        lambda *args: seen.append(args[3]) or ([], {}))  # fmt: skip
    bench_main.main(["--peers-only", "--peer-seed", "2", "--steps", "1", "--dev-rows", "5"])
    assert [config.seed for config in seen] == [2]


def test_the_commonest_class_is_the_constant_guess_to_beat():
    from bench.peer_comparison import constant_guess

    dev = {"sst": [{"label": label} for label in (1, 1, 1, 3)], "sts": [{"label": 2.5}]}
    assert constant_guess(dev) == {"sst": 0.75}  # scores have no commonest class


def test_a_run_that_guesses_one_class_says_so():
    import pandas as pd

    from bench.peers import scored

    notes = {}
    guesses = pd.DataFrame({"prediction": [1, 1, 1, 1], "label": [1, 1, 3, 0]})
    assert scored("sst", guesses, notes) == 0.5 and notes == {"sst top class share": 1.0}


def test_the_rate_spread_script_reports_one_ratio_per_pair(
    tiny_folder, no_network, monkeypatch, capsys
):
    from tests.test_scripts import load

    monkeypatch.setenv("MTLAB_DATA_DIR", str(SAMPLE_DIR))
    script = load("trainer_rate_spread")
    ratios = script.main(["--repeats", "2", "--steps", "1", "--model-path", str(tiny_folder)])
    printed = capsys.readouterr().out
    assert len(ratios) == 2 and all(r > 0 for r in ratios)
    assert printed.count("mtlab / Trainer") == 3 and "mean ± sd over 2 pairs" in printed
    with pytest.raises(SystemExit):
        script.main(["--repeats", "1"])


def test_padding_counts_token_slots_per_real_token(tiny_folder):
    from bench.peer_comparison import padding

    same = [{"id": str(i), "sentence": "one two three", "label": 0} for i in range(8)]
    assert padding(same, str(tiny_folder), batch_size=4) == (1.0, 1.0)  # equal lengths: no padding
    mixed = [{"id": str(i), "sentence": "word " * (1 + i % 7), "label": 0} for i in range(40)]
    theirs, ours = padding(mixed, str(tiny_folder), batch_size=8)
    assert theirs > 1 and ours > 1
