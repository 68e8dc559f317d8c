"""Every program the tree tests run. Words in a command may name {fixtures} (the C programs
built from tests/fixtures), {programs} (tests/e2e/tree/programs) and {data} (a file in the
scenario's directory). A fixture exits 77 when this machine cannot run it: the test is skipped."""
from __future__ import annotations

from dataclasses import dataclass

PYTHON = "/usr/bin/python3"  # the system's: a python3 found on PATH may be a pyenv shell script


@dataclass(frozen=True)
class Scenario:
    name: str
    command: list[str]  # run traced and untraced: stdout, exit status and {data} must agree
    # Run the whole session as nobody:nogroup (needs root to set up).
    unprivileged: bool = False
    # Why the scenario has no shim-only test: what only the kernel's witness can tell.
    needs_kernel_witness: str = ""

    def modes(self) -> list[str]:
        return ["kernel"] if self.needs_kernel_witness else ["kernel", "shim"]


def _sh(name: str, shell: str, script: str, **kw) -> Scenario:
    return Scenario(name, [shell, "-c", script], **kw)


def _fixture(name: str, program: str, *args: str, **kw) -> Scenario:
    return Scenario(name, ["{fixtures}/" + program, *args], **kw)


def _python(name: str, script: str, **kw) -> Scenario:
    return Scenario(name, [PYTHON, "{programs}/" + script], **kw)


SCENARIOS = [
    _sh("bash_pipeline", "bash",
        "echo hello | tr a-z A-Z | wc -c; /bin/false | /bin/true; ls / | head -n 1 >/dev/null;"
        " exit 3"),
    _sh("bash_subshell", "bash",
        "(exit 4); echo $?; (/bin/true; /bin/false); ( (ls /nonexistent 2>/dev/null); exit 5 );"
        " echo $?; (exec /bin/sh -c 'exit 6'); echo $?"),
    _sh("bash_command_substitution", "bash",
        "a=$(echo x); b=$(/bin/echo y; exit 2); c=$(ls / | head -n 1); d=$(sh -c 'echo z');"
        " echo \"$a$b${#c}$d\""),
    _sh("dash_vfork", "dash",
        "/bin/true; /bin/false; echo $(/bin/echo sub); /bin/echo a | /bin/cat;"
        " ls /nonexistent 2>/dev/null; sh -c 'exit 3'; echo $?;"
        " {programs}/shebang_script.sh; echo $?; {programs}/no_shebang_script; echo $?; exit 7"),
    _python("python_os_fork", "python_os_fork.py"),
    _python("python_subprocess", "python_subprocess.py"),
    _python("python_multiprocessing_fork", "python_multiprocessing_fork.py"),
    _python("python_os_system", "python_os_system.py"),
    _fixture("c_posix_spawn", "spawners", "posix_spawn"),
    _fixture("c_posix_spawnp", "spawners", "posix_spawnp"),
    _fixture("c_vfork_exec", "spawners", "vfork_exec"),
    _fixture("c_system", "spawners", "system"),
    _fixture("c_popen", "spawners", "popen"),
    _fixture("c_daemon", "daemonize"),
    _fixture("c_threaded_forks", "threaded_forks"),
    _fixture("c_empty_env_exec", "empty_env_exec"),
    _fixture("c_signal_deaths", "signal_deaths"),
    _fixture("c_rare_entry_points", "rare_entry_points"),
    _fixture("c_child_ends_before_fork_returns", "child_ends_before_fork_returns"),
    _fixture("c_exec_killed_midway", "exec_killed_midway", needs_kernel_witness=(
        "a child killed inside execve sent its exec attempt and nothing after; the library"
        " cannot tell that from a kill just after the new program started, the kernel (no exec"
        " event before the exit) can")),
    Scenario("make_j2", ["make", "-j2", "-s", "-f", "{programs}/jobs.mk"]),
    _fixture("fd_close_range", "fd_hostile", "close_range", "{data}"),
    _fixture("fd_close_loop", "fd_hostile", "close_loop", "{data}"),
    _fixture("fd_dup2_over_all", "fd_hostile", "dup2", "{data}"),
    _sh("unprivileged_bash", "bash",
        "echo hi | cat; (/bin/false); x=$(/bin/echo y);"
        f" {PYTHON} -c 'import os; os.system(\"exit 2\")'; exit 4",
        unprivileged=True),
]

BY_NAME = {s.name: s for s in SCENARIOS}
