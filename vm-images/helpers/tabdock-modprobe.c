/*
 * tabdock-modprobe: the program the kernel runs to load a module on demand (/proc/sys/kernel/modprobe, set by
 * tabdock-init). It answers "no such module" at once for binfmt-XXXX, and runs the real modprobe with the same
 * arguments for everything else.
 *
 * The kernel asks for binfmt-XXXX whenever exec() meets a file no loaded format handles. dockerd's BuildKit
 * checks which foreign CPUs it can emulate by running a tiny binary for each (amd64, arm64, riscv64, ...), on
 * every build, several times: about 40 requests per `docker build`, each a full modprobe that loads its
 * indexes (50 ms on v86's CPU), 2 s in all. No module in the guest's tree has a binfmt-XXXX alias (the build
 * checks, vm-images/lib/rootfs.sh), so the real modprobe could only ever fail them too.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef MODPROBE_PATH
#define MODPROBE_PATH "/sbin/modprobe"
#endif

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (strncmp(argv[i], "binfmt-", 7) == 0) return 1;
  }
  argv[0] = (char *)MODPROBE_PATH;
  execv(MODPROBE_PATH, argv);
  fprintf(stderr, "tabdock-modprobe: cannot run %s: %s\n", MODPROBE_PATH, strerror(errno));
  return 127;
}
