/*
 * tabdock-sealed-copy PATH...: replaces each PATH, until the next boot, by a sealed in-memory copy of itself (a
 * memfd with every write seal, bind-mounted over PATH) and stays in the background to keep the copies alive.
 * crun and runc copy themselves into such a memfd on
 * every run (CVE-2019-5736: a container must not be able to overwrite the host's runtime through
 * /proc/self/exe) and re-execute the copy, unless they already run from a fully sealed memfd; both document
 * that a sealed memfd bind-mounted over the binary is the way to skip it (crun src/libcrun/cloned_binary.c
 * is_self_cloned, runc contrib/cmd/memfd-bind). On v86's CPU that copy and second exec cost about a second per
 * container in a first docker run (four runtime calls each). The copy cannot be written by anyone: the seals
 * forbid writes, growing and shrinking, and further seal changes. Run by tabdock-init before containerd.
 *
 * A memfd lives on the kernel's internal shmem mount, which cannot be bind-mounted from another mount
 * namespace; its /proc/self/fd magic link, opened O_PATH, can (runc's memfd-bind does the same). The link
 * resolves only while this process holds the memfd: if it died, PATH would answer EINVAL, so it ignores
 * every signal but KILL and asks the OOM killer to spare it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* The seals crun and runc require (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE). */
#define RUNTIME_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

static int sealed_copy(const char *path) {
  int in = open(path, O_RDONLY | O_CLOEXEC);
  if (in < 0) return -1;
  struct stat info;
  if (fstat(in, &info) != 0 || !S_ISREG(info.st_mode)) {
    if (errno == 0) errno = EINVAL;
    close(in);
    return -1;
  }
  const char *base = strrchr(path, '/');
  char name[64];
  snprintf(name, sizeof name, "tabdock-sealed:%s", base ? base + 1 : path);
  int memfd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (memfd < 0) {
    close(in);
    return -1;
  }
  off_t sent = 0;
  while (sent < info.st_size) {
    ssize_t n = sendfile(memfd, in, NULL, (size_t)(info.st_size - sent));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;
      close(in);
      close(memfd);
      return -1;
    }
    sent += n;
  }
  close(in);
  /* The mode of the file it stands in for (a memfd starts as 0777). */
  if (fchmod(memfd, info.st_mode & 07777) != 0 || fcntl(memfd, F_ADD_SEALS, RUNTIME_SEALS) != 0) {
    close(memfd);
    return -1;
  }
  char memfd_path[64], link_path[64], target_path[64];
  snprintf(memfd_path, sizeof memfd_path, "/proc/self/fd/%d", memfd);
  int link = open(memfd_path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  int target = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
  int mounted = -1;
  if (link >= 0 && target >= 0) {
    snprintf(link_path, sizeof link_path, "/proc/self/fd/%d", link);
    snprintf(target_path, sizeof target_path, "/proc/self/fd/%d", target);
    mounted = mount(link_path, target_path, NULL, MS_BIND, NULL);
  }
  int saved = errno;
  if (link >= 0) close(link);
  if (target >= 0) close(target);
  if (mounted != 0) {
    close(memfd);
    errno = saved;
    return -1;
  }
  /* Kept open for as long as this process lives: the mount resolves through it. */
  return memfd;
}

/* Never returns: ignores every catchable signal and keeps the memfds open. */
static void hold_forever(void) {
  setsid();
  for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_IGN);
  FILE *oom = fopen("/proc/self/oom_score_adj", "w");
  if (oom) {
    fputs("-1000", oom);
    fclose(oom);
  }
  int null = open("/dev/null", O_RDWR);
  if (null >= 0) {
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    if (null > 2) close(null);
  }
  for (;;) pause();
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: tabdock-sealed-copy PATH...\n");
    return 2;
  }
  /*
   * The mounts resolve through /proc/<pid>/fd of the process that made them, so the child that stays makes
   * them; the parent waits for its verdict (one byte) and exits with it, so tabdock-init goes on.
   */
  int verdict[2];
  if (pipe(verdict) != 0) {
    perror("tabdock-sealed-copy: pipe");
    return 1;
  }
  pid_t child = fork();
  if (child < 0) {
    perror("tabdock-sealed-copy: fork");
    return 1;
  }
  if (child > 0) {
    close(verdict[1]);
    unsigned char status = 1;
    while (read(verdict[0], &status, 1) < 0 && errno == EINTR) {}
    return status;
  }
  close(verdict[0]);
  unsigned char status = 0;
  int held = 0;
  for (int i = 1; i < argc; i++) {
    if (sealed_copy(argv[i]) < 0) {
      /* Not fatal for the guest: the runtime then copies itself as it always did, only slower. */
      fprintf(stderr, "tabdock-sealed-copy: %s: %s (it keeps copying itself per container)\n", argv[i], strerror(errno));
      status = 1;
    } else {
      held++;
    }
  }
  while (write(verdict[1], &status, 1) < 0 && errno == EINTR) {}
  close(verdict[1]);
  if (held > 0) hold_forever();
  return status;
}
