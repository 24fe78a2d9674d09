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
 * A container whose first program is an x86-64 ELF (directly or as a script's interpreter) runs under
 * qemu-x86_64-static (binfmt_misc, vm-images/README.md "amd64 images, emulated"). As a PID namespace's init,
 * QEMU 7.2 cannot die of the signal that ends its program: it resets the handler and kills itself
 * (linux-user/signal.c dump_core_and_abort), and the kernel drops a namespace init's own default-action
 * signals, so a crash or `docker stop` would hang. Such a container gets docker-init (tini, i386) as PID 1, as
 * `docker run --init` gives it: tini exits with 128+signal, which docker reports as usual.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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
#define INIT_IN_CONTAINER "/sbin/docker-init"
/* dockerd's own mount for --init (moby daemon/oci_linux.go WithInit). */
#define INIT_MOUNT "{\"destination\":\"" INIT_IN_CONTAINER "\",\"type\":\"bind\",\"source\":\"/usr/bin/docker-init\",\"options\":[\"bind\",\"ro\"]}"
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* One change to config.json: `remove` bytes at `offset` replaced by `text`. */
struct edit {
  size_t offset, remove;
  const char *text;
};

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

/* The JSON string starting right after `key` in json[from, to), copied into out (no escapes: a string with one is
 * not taken). Returns its length, or -1. */
static int json_string_after(const char *json, const char *from, const char *to, const char *key, char *out, size_t size) {
  const char *at = strstr(from, key);
  if (!at || (to && at >= to)) return -1;
  at += strlen(key);
  const char *end = strchr(at, '"');
  if (!end || memchr(at, '\\', (size_t)(end - at)) || (size_t)(end - at) >= size) return -1;
  memcpy(out, at, (size_t)(end - at));
  out[end - at] = '\0';
  (void)json;
  return (int)(end - at);
}

/* Whether the file at `path` inside the root (symlinks resolved within it) is an x86-64 ELF, or a script whose
 * interpreter is one. */
static int is_x86_64(int root, const char *path, int depth) {
  struct open_how how = {.flags = O_RDONLY | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT};
  int fd = (int)syscall(SYS_openat2, root, path, &how, sizeof how);
  if (fd < 0) return 0;
  unsigned char head[256];
  ssize_t n = read(fd, head, sizeof head - 1);
  close(fd);
  if (n >= 20 && memcmp(head, "\x7f" "ELF", 4) == 0) return head[4] == 2 && head[18] == 0x3e && head[19] == 0;
  if (n > 2 && head[0] == '#' && head[1] == '!' && depth < 4) {
    head[n] = '\0';
    char *interpreter = (char *)head + 2;
    while (*interpreter == ' ' || *interpreter == '\t') interpreter++;
    interpreter[strcspn(interpreter, " \t\r\n")] = '\0';
    return *interpreter == '/' && is_x86_64(root, interpreter, depth + 1);
  }
  return 0;
}

/* Where to insert docker-init in front of an x86-64 first program: after `"args":[` of the process and after
 * `"mounts":[`. Returns 1 with both offsets set, 0 when the container needs none (or the config is not the
 * compact JSON dockerd and BuildKit write). */
static int find_init_edits(const char *json, const char *bundle, size_t *args_at, size_t *mounts_at, int *mounts_empty) {
  const char *process = strstr(json, "\"process\":{");
  const char *root_key = strstr(json, "\"root\":{\"path\":\"");
  const char *args = process ? strstr(process, "\"args\":[\"") : NULL;
  const char *mounts = strstr(json, "\"mounts\":[");
  if (!process || !root_key || !args || !mounts || (root_key && args > root_key)) return 0;
  char program[1024], root_path[4096], search[4096], candidate[4096];
  if (json_string_after(json, args, NULL, "\"args\":[\"", program, sizeof program) <= 0) return 0;
  if (strcmp(program, INIT_IN_CONTAINER) == 0) return 0;
  if (json_string_after(json, root_key, NULL, "\"root\":{\"path\":\"", root_path, sizeof root_path) <= 0) return 0;
  char full_root[8192];
  if (root_path[0] == '/') snprintf(full_root, sizeof full_root, "%s", root_path);
  else snprintf(full_root, sizeof full_root, "%s/%s", bundle, root_path);
  if (json_string_after(json, process, root_key, "\"PATH=", search, sizeof search) < 0) snprintf(search, sizeof search, "%s", DEFAULT_PATH);
  int root = open(full_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return 0;
  int found = 0;
  if (strchr(program, '/')) {
    found = is_x86_64(root, program, 0);
  } else {
    /* As execvp: the first directory of PATH that has the name decides. */
    for (char *dir = strtok(search, ":"); dir; dir = strtok(NULL, ":")) {
      if (snprintf(candidate, sizeof candidate, "%s/%s", dir, program) >= (int)sizeof candidate) continue;
      struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT};
      int fd = (int)syscall(SYS_openat2, root, candidate, &how, sizeof how);
      if (fd < 0) continue;
      close(fd);
      found = is_x86_64(root, candidate, 0);
      break;
    }
  }
  close(root);
  if (!found) return 0;
  *args_at = (size_t)(args - json) + strlen("\"args\":[");
  *mounts_at = (size_t)(mounts - json) + strlen("\"mounts\":[");
  *mounts_empty = mounts[strlen("\"mounts\":[")] == ']';
  return 1;
}

static void rewrite_config(const char *bundle) {
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
  if (used != size) { free(json); return; }
  struct edit edits[3];
  int count = 0;
  size_t start, length, args_at, mounts_at;
  int mounts_empty;
  if (find_hook(json, &start, &length)) edits[count++] = (struct edit){start, length, SETKEY_PATH};
  if (find_init_edits(json, bundle, &args_at, &mounts_at, &mounts_empty)) {
    edits[count++] = (struct edit){args_at, 0, "\"" INIT_IN_CONTAINER "\",\"--\","};
    edits[count++] = (struct edit){mounts_at, 0, mounts_empty ? INIT_MOUNT : INIT_MOUNT ","};
  }
  if (count == 0) { free(json); return; }
  for (int i = 1; i < count; i++) {
    for (int j = i; j > 0 && edits[j].offset < edits[j - 1].offset; j--) {
      struct edit swap = edits[j];
      edits[j] = edits[j - 1];
      edits[j - 1] = swap;
    }
  }
  int out = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, info.st_mode & 07777);
  if (out < 0) { free(json); return; }
  int ok = 1;
  size_t done = 0;
  for (int i = 0; i <= count && ok; i++) {
    /* The unchanged bytes before edit i (or up to the end), then its text. */
    size_t until = i < count ? edits[i].offset : size;
    const char *parts[2] = {json + done, i < count ? edits[i].text : ""};
    size_t sizes[2] = {until - done, i < count ? strlen(edits[i].text) : 0};
    for (int k = 0; k < 2 && ok; k++) {
      for (size_t sent = 0; sent < sizes[k];) {
        ssize_t n = write(out, parts[k] + sent, sizes[k] - sent);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) { ok = 0; break; }
        sent += (size_t)n;
      }
    }
    if (i < count) done = edits[i].offset + edits[i].remove;
  }
  if (close(out) != 0) ok = 0;
  if (ok && rename(temp, path) != 0) ok = 0;
  if (!ok) {
    unlink(temp);
    fprintf(stderr, "tabdock-runtime: could not rewrite %s (%s); the container starts with it as dockerd wrote it\n", path, strerror(errno));
  }
  free(json);
}

int main(int argc, char **argv) {
  const char *runtime = real_runtime(argv[0]);
  const char *bundle = container_bundle(argc, argv);
  if (bundle) rewrite_config(bundle);
  argv[0] = (char *)runtime;
  execv(runtime, argv);
  fprintf(stderr, "tabdock-runtime: cannot run %s: %s\n", runtime, strerror(errno));
  return 127;
}
