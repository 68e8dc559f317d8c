# os.system goes through libc's system(), which spawns /bin/sh without passing posix_spawn's
# wrapper: exit codes, a shell that forks, a shell killed by SIGKILL.
import os

print(os.waitstatus_to_exitcode(os.system("exit 3")))
print(os.waitstatus_to_exitcode(os.system("/bin/true; /bin/false")))
print(os.waitstatus_to_exitcode(os.system("kill -KILL $$")))
