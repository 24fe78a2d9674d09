/*
 * tabdock-runtime: the OCI runtime dockerd calls (vm-images/config/daemon.json "runtimes"), a thin front for
 * crun or runc. Installed as tabdock-crun and tabdock-runc; the name it was run by (/proc/self/exe, so a
 * symlink counts as its target) picks the runtime it execs, with the same arguments. dockerd's BuildKit runs
 * `runc` from its PATH whatever the default runtime is (moby builder-next/executor_linux.go): dockerd's PATH
 * starts with a folder whose `runc` is a symlink to tabdock-crun, so RUN steps use crun too.
 * On `create` and `run` it first replaces dockerd's libnetwork-setkey prestart hook in the bundle's
 * config.json (dockerd's own binary, re-executed: seconds per container on v86's CPU) by tabdock-setkey, which
 * makes the same exchange with dockerd (see tabdock-setkey.c), keeping the hook's arguments. A config.json it
 * cannot read or write is left as it is: the container then starts with dockerd's hook, only slower.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Where things are in the guest; the host-side unit test (helpers.test.ts) builds it pointing elsewhere. */
#ifndef SETKEY_PATH
#define SETKEY_PATH "/usr/local/libexec/tabdock-setkey"
#endif
#ifndef CRUN_PATH
#define CRUN_PATH "/usr/bin/crun"
#endif
#ifndef RUNC_PATH
#define RUNC_PATH "/usr/sbin/runc"
#endif
#define CONFIG_MAX (16 * 1024 * 1024)

static const char *real_runtime(const char *argv0) {
  /* The file really run: a symlink named runc that points at tabdock-crun means crun. argv[0] if unreadable. */
  static char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  const char *self = argv0;
  if (n > 0) {
    exe[n] = '\0';
    self = exe;
  }
  const char *name = strrchr(self, '/');
  name = name ? name + 1 : self;
  size_t length = strlen(name);
  if (length >= 4 && strcmp(name + length - 4, "crun") == 0) return CRUN_PATH;
  return RUNC_PATH;
}

/* The bundle directory of a command that starts a container, `create` or `run` (runc and crun: --bundle DIR,
 * --bundle=DIR or -b DIR). */
static const char *container_bundle(int argc, char **argv) {
  int starts = 0;
  for (int i = 1; i < argc; i++) {
    if (!starts) {
      starts = strcmp(argv[i], "create") == 0 || strcmp(argv[i], "run") == 0;
      continue;
    }
    if ((strcmp(argv[i], "--bundle") == 0 || strcmp(argv[i], "-b") == 0) && i + 1 < argc) return argv[i + 1];
    if (strncmp(argv[i], "--bundle=", 9) == 0) return argv[i] + 9;
  }
  /* runc and crun default to the current directory. */
  return starts ? "." : NULL;
}

/* Where dockerd's hook path starts in the compact JSON containerd writes: "path":"/proc/<pid>/exe" followed by
 * "args":["libnetwork-setkey", ...]. Returns the offset of the path's opening quote's value and its length. */
static int find_hook(const char *json, size_t *start, size_t *length) {
  static const char key[] = "\"path\":\"/proc/";
  for (const char *at = strstr(json, key); at; at = strstr(at + 1, key)) {
    const char *p = at + sizeof key - 1;
    const char *digits = p;
    while (*p >= '0' && *p <= '9') p++;
    if (p == digits || strncmp(p, "/exe\",\"args\":[\"libnetwork-setkey\"", 33) != 0) continue;
    *start = (size_t)(at + 8 - json);           /* after "path":" */
    *length = (size_t)(p + 4 - (at + 8));       /* /proc/<pid>/exe */
    return 1;
  }
  return 0;
}

static void replace_hook(const char *bundle) {
  char path[4096], temp[4096];
  if (snprintf(path, sizeof path, "%s/config.json", bundle) >= (int)sizeof path) return;
  if (snprintf(temp, sizeof temp, "%s/.config.json.tabdock", bundle) >= (int)sizeof temp) return;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  struct stat info;
  if (fstat(fd, &info) != 0 || info.st_size <= 0 || info.st_size > CONFIG_MAX) { close(fd); return; }
  size_t size = (size_t)info.st_size;
  char *json = malloc(size + 1);
  if (!json) { close(fd); return; }
  size_t used = 0;
  while (used < size) {
    ssize_t n = read(fd, json + used, size - used);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    used += (size_t)n;
  }
  close(fd);
  json[used] = '\0';
  size_t start, length;
  if (used != size || !find_hook(json, &start, &length)) { free(json); return; }
  int out = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, info.st_mode & 07777);
  if (out < 0) { free(json); return; }
  const char *parts[3] = {json, SETKEY_PATH, json + start + length};
  size_t sizes[3] = {start, strlen(SETKEY_PATH), size - start - length};
  int ok = 1;
  for (int i = 0; i < 3 && ok; i++) {
    for (size_t sent = 0; sent < sizes[i];) {
      ssize_t n = write(out, parts[i] + sent, sizes[i] - sent);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) { ok = 0; break; }
      sent += (size_t)n;
    }
  }
  if (close(out) != 0) ok = 0;
  if (ok && rename(temp, path) != 0) ok = 0;
  if (!ok) {
    unlink(temp);
    fprintf(stderr, "tabdock-runtime: could not rewrite %s (%s); using dockerd's own setkey hook\n", path, strerror(errno));
  }
  free(json);
}

int main(int argc, char **argv) {
  const char *runtime = real_runtime(argv[0]);
  const char *bundle = container_bundle(argc, argv);
  if (bundle) replace_hook(bundle);
  argv[0] = (char *)runtime;
  execv(runtime, argv);
  fprintf(stderr, "tabdock-runtime: cannot run %s: %s\n", runtime, strerror(errno));
  return 127;
}
