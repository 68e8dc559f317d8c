"""The agent's Prometheus metrics, read by a real Prometheus server (Debian's `prometheus`)
scraping it on loopback while a traced program forks: the copied bytes of the fork episodes
that Prometheus stored equal what `cowtrace report` says for the same trace, and `promtool
check metrics` accepts the exposition (the HTTP endpoint's and the node_exporter textfile's)."""
from __future__ import annotations

import shutil
import subprocess
import unittest

from agent_tools import (Agent, free_port, http_get, http_ok, prometheus_query, report_json, tool,
                         wait_for, workdir)

MiB = 1 << 20
CHILDREN = 3


def binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise AssertionError(f"{name} not found: install Debian's prometheus (.ci/install-deps.sh does)")
    return path


class PrometheusScrape(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = workdir()
        metrics_port, prom_port = free_port(), free_port()
        cls.metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
        cls.prom = f"http://127.0.0.1:{prom_port}"
        cls.textfile = cls.dir / "cowtrace.prom"
        cls.agent = Agent(cls.dir, "-q", "--metrics-listen", f"127.0.0.1:{metrics_port}",
                          "--metrics-file", str(cls.textfile), "--metrics-interval", "200ms")
        wait_for("the metrics endpoint", lambda: http_ok(cls.metrics_url))
        config = cls.dir / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: cowtrace\n    scrape_interval: 1s\n"
            f"    static_configs:\n      - targets: ['127.0.0.1:{metrics_port}']\n")
        cls.prom_log = open(cls.dir / "prometheus.log", "wb")
        cls.server = subprocess.Popen(
            [binary("prometheus"), f"--config.file={config}", f"--storage.tsdb.path={cls.dir / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{prom_port}", "--log.level=warn"],
            stdout=cls.prom_log, stderr=subprocess.STDOUT)
        try:
            wait_for("Prometheus to be ready", lambda: http_ok(f"{cls.prom}/-/ready"))
            wait_for("a first scrape of the agent", lambda: prometheus_query(cls.prom, 'up{job="cowtrace"} == 1'))
            writer = cls.agent.traced(tool("COW_WRITER"), "--share", "32", "--child-writes", "8",
                                      "--parent-writes", "2", "--hold-ms", "500",
                                      "--children", str(CHILDREN))
            assert writer.returncode == 0, writer.stderr
            # Every episode has ended in the agent; then a scrape that saw them all.
            def ended_and_scraped():
                live = prometheus_query(cls.prom, "cowtrace_fork_episodes_live")
                total = prometheus_query(cls.prom, "sum(cowtrace_fork_episodes_total)")
                measured = prometheus_query(cls.prom, "sum(cowtrace_fork_copied_bytes_count)")
                unmeasured = prometheus_query(cls.prom, "sum(cowtrace_fork_episodes_unmeasured_total)")
                count = lambda r: float(r[0]["value"][1]) if r else 0.0
                return (live and count(live) == 0 and count(total) == CHILDREN
                        and count(measured) + count(unmeasured) == CHILDREN)
            wait_for("Prometheus to hold every episode's end", ended_and_scraped)
            cls.exposition = http_get(cls.metrics_url)
            cls.prom_copied = prometheus_query(cls.prom, "cowtrace_fork_copied_bytes_sum")
            cls.prom_count = prometheus_query(cls.prom, "cowtrace_fork_copied_bytes_count")
        finally:
            cls.server.terminate()
            cls.server.wait(timeout=60)
            cls.prom_log.close()
            cls.status = cls.agent.stop()
        cls.model = report_json(cls.agent.trace)

    def measured_forks(self):
        return [f for f in self.model["forks"] if f["census"] == "measured"]

    def test_the_agent_ended_cleanly(self):
        self.assertEqual(self.status, 0, self.agent.output())

    def test_copied_bytes_in_prometheus_equal_the_reports(self):
        forks = self.measured_forks()
        self.assertGreater(len(forks), 0, self.model["forks"])
        self.assertEqual(len(self.prom_copied), 1, self.prom_copied)  # one program: cow_writer
        series = self.prom_copied[0]
        self.assertEqual(series["metric"]["program"], "cow_writer")
        self.assertEqual(series["metric"]["job"], "cowtrace")
        self.assertEqual(int(float(series["value"][1])), sum(f["copied_bytes_peak"] for f in forks))
        self.assertEqual(int(float(self.prom_count[0]["value"][1])), len(forks))
        # Not a vacuous equality: each child copied about 8 MiB.
        for f in forks:
            self.assertGreater(f["copied_bytes_peak"], 7 * MiB)

    def test_promtool_accepts_the_exposition(self):
        for name, text in (("/metrics", self.exposition), ("textfile", self.textfile.read_bytes())):
            out = subprocess.run([binary("promtool"), "check", "metrics"], input=text,
                                 capture_output=True, timeout=60)
            self.assertEqual(out.returncode, 0, f"{name}: {out.stdout.decode()}{out.stderr.decode()}")
            self.assertIn(b"# TYPE cowtrace_fork_copied_bytes histogram", text)

    def test_the_textfile_matches_the_last_state(self):
        text = self.textfile.read_text()
        self.assertIn('cowtrace_fork_copied_bytes_count{program="cow_writer"} '
                      f"{len(self.measured_forks())}", text)
        self.assertFalse((self.dir / "cowtrace.prom.tmp").exists())

    def test_labels_are_bounded(self):
        text = self.exposition.decode()
        for line in text.splitlines():
            if line.startswith("#") or "pid=" not in line:
                continue
            self.assertTrue(line.startswith("cowtrace_fork_episode_"), line)  # only live episodes


if __name__ == "__main__":
    unittest.main()
