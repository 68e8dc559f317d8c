"""`cowtrace record` rotating its trace: every file, the current one and each rotated one, is a
complete trace that `report` and `check` read on their own (nothing lost, an end record); a
process alive across a rotation is known in the next file by its name and creator, and a fork
episode open across it goes on there; `--keep` bounds the files kept."""
from __future__ import annotations

import subprocess
import time
import unittest

from agent_tools import Agent, cowtrace, report_json, tool, wait_for, workdir

KEEP = 3


class Rotation(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = workdir()
        cls.agent = Agent(cls.dir, "-q", "--rotate-age", "1s", "--keep", str(KEEP))
        # A server-like parent whose children each hold their copies for 1.5 s: every episode
        # spans a rotation; a shell loop makes processes come and go meanwhile.
        env = cls.agent.env()
        writer = subprocess.Popen([tool("COW_WRITER"), "--share", "16", "--child-writes", "4",
                                   "--hold-ms", "1500", "--children", "3"], env=env)
        churn = subprocess.run(["/bin/sh", "-c", "i=0; while [ $i -lt 40 ]; do /bin/true; i=$((i+1)); "
                                "/bin/sleep 0.05; done"], env=env, timeout=120)
        assert churn.returncode == 0
        assert writer.wait(timeout=120) == 0
        time.sleep(1.5)  # one more rotation after the last process ended
        cls.status = cls.agent.stop()
        cls.rotated = sorted(cls.dir.glob("agent.trace.*"), key=lambda p: int(p.suffix[1:]))
        cls.files = [cls.agent.trace, *cls.rotated]

    def test_the_agent_ended_cleanly(self):
        self.assertEqual(self.status, 0, self.agent.output())

    def test_keep_bounds_the_rotated_files(self):
        self.assertEqual([p.name for p in self.rotated], [f"agent.trace.{n}" for n in range(1, KEEP + 1)],
                         "the run lasts long enough for more rotations than are kept")

    def test_every_file_is_a_complete_trace(self):
        for f in self.files:
            out = cowtrace("check", str(f), "--max-processes", "100000")
            self.assertEqual(out.returncode, 0, f"{f.name}: {out.stdout.decode()}{out.stderr.decode()}")
            self.assertIn(b"all 1 budget met", out.stdout, f.name)

    def test_processes_alive_across_a_rotation_keep_their_names_and_creators(self):
        carried_any = False
        for f in self.files:
            model = report_json(f)
            by_pid = {p["pid"]: p for p in model["processes"]}
            for p in model["processes"]:
                if "carried_over" not in p.get("flags", []):
                    continue
                carried_any = True
                self.assertNotIn("records_missing", p["flags"], (f.name, p))
                if p["ppid"] in by_pid:  # created by a traced process (in an earlier file)
                    self.assertNotIn("untraced_creation", p["flags"], (f.name, p))
                    # cow_writer forks; dash creates its commands with vfork
                    self.assertIn(p["how"], ("fork", "vfork"), (f.name, p))
                    self.assertTrue(p["call_site"], (f.name, p))
            text = cowtrace("report", str(f)).stdout.decode()
            self.assertNotIn("?(", text, f"{f.name}: a process without a name:\n{text}")
        self.assertTrue(carried_any, "some process lived across a rotation")

    def test_an_episode_open_across_a_rotation_goes_on_in_the_next_file(self):
        # In the oldest file kept that holds the writer's forks, each child is a fork episode.
        spanning = 0
        for f in self.files:
            model = report_json(f)
            for e in model["forks"]:
                if e["census"] == "measured" and e["t_ns"] == 0 and e["samples"]:
                    spanning += 1  # began before this file: carried over, sampled in it
        self.assertGreater(spanning, 0, "an episode carried into a later file has samples there")


class Reconnect(unittest.TestCase):
    """The agent killed and started again on the same socket: a program that was running
    reconnects on its next record; a program started again while the agent runs is traced."""

    def test_a_running_program_reconnects_to_a_restarted_agent(self):
        d = workdir()
        first = Agent(d, "-q", name="first")
        env = first.env()
        loop = subprocess.Popen(["/bin/sh", "-c", "i=0; while [ $i -lt 40 ]; do /bin/true; i=$((i+1)); "
                                 "/bin/sleep 0.05; done"], env=env)
        time.sleep(0.5)
        first.proc.kill()  # as an OOM kill or a crash would
        first.proc.wait(timeout=60)
        first.log.close()
        second = Agent(d, "-q", name="second", socket=first.socket)  # replaces the dead socket
        self.assertEqual(loop.wait(timeout=120), 0)
        again = subprocess.Popen(["/bin/sh", "-c", "/bin/true; /bin/true"], env=env)
        self.assertEqual(again.wait(timeout=60), 0)
        self.assertEqual(second.stop(), 0, second.output())
        model = report_json(second.trace)
        pids = {p["pid"] for p in model["processes"]}
        self.assertIn(loop.pid, pids, "the running shell reached the restarted agent")
        later = [p for p in model["processes"] if p["ppid"] == loop.pid]
        self.assertGreater(len(later), 0, "and the children it made afterwards are its own")
        self.assertIn(again.pid, pids, "the program started again is traced")
        self.assertEqual(len([p for p in model["processes"] if p["ppid"] == again.pid]), 2)


if __name__ == "__main__":
    unittest.main()
