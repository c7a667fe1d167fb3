# Started by a shell launcher (hotpath record -s -- bash -c '...'): spins in spin_while_parent_lives until
# its parent is gone, so it never outlives the launcher hotpath stops. Writes its pid to the file in argv[1].
import os
import sys


def spin_while_parent_lives(parent):
    count = 0
    while os.getppid() == parent:
        count += 1
    return count


with open(sys.argv[1], "w") as pid_file:
    pid_file.write(str(os.getpid()))
spin_while_parent_lives(os.getppid())
