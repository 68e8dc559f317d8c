# subprocess on Linux forks with vfork (Python 3.10+) and execs with execv, one attempt per PATH
# entry for a bare name: failed execs before the good one, a name found nowhere, a shell, and a
# child killed by SIGKILL.
import subprocess

print(subprocess.run(["true"]).returncode)
print(subprocess.run(["/bin/sh", "-c", "/bin/true; exit 5"]).returncode)
print(subprocess.run("echo hi; exit 6", shell=True).returncode)
try:
    subprocess.run(["no-such-program-cowtrace-e2e"])
except FileNotFoundError:
    print("not found")
print(len(subprocess.check_output(["ls", "/"])) > 0)
# Killed only once it answers: a kill that lands inside execve makes the exec's success a
# matter of timing (strace then prints "= ?"), which is not what this test is about.
cat = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
cat.stdin.write(b"ping\n")
cat.stdin.flush()
print(cat.stdout.readline().decode().strip())
cat.kill()
print(cat.wait())
