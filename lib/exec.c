/* SPDX-License-Identifier: MIT */
/*
 * exec and _exit: the process image goes away without exit's handlers, so
 * what the threads' batch buffers hold (batch.c) is written out first. The
 * next definitions are looked up in the first constructor (a lookup in a
 * fork child of a threaded parent could wait for a lock forever).
 *
 * A vfork child shares its parent's memory and runs no fork handler: it
 * must not write the parent's buffers out, so only the process that owns
 * them (the pid of the last start or fork) does.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "batch-internal.h"

static int (*ta_next_execve)(const char *, char *const[], char *const[]);
static int (*ta_next_execv)(const char *, char *const[]);
static int (*ta_next_execvp)(const char *, char *const[]);
static int (*ta_next_execvpe)(const char *, char *const[], char *const[]);
static int (*ta_next_fexecve)(int, char *const[], char *const[]);
static int (*ta_next_execveat)(int, const char *, char *const[], char *const[], int);
static void (*ta_next_exit)(int);
static void (*ta_next_Exit)(int);
static pid_t ta_exec_pid;

TA_START void ta_exec_init(void)
{
	*(void **)&ta_next_execve = dlsym(RTLD_NEXT, "execve");
	*(void **)&ta_next_execv = dlsym(RTLD_NEXT, "execv");
	*(void **)&ta_next_execvp = dlsym(RTLD_NEXT, "execvp");
	*(void **)&ta_next_execvpe = dlsym(RTLD_NEXT, "execvpe");
	*(void **)&ta_next_fexecve = dlsym(RTLD_NEXT, "fexecve");
	*(void **)&ta_next_execveat = dlsym(RTLD_NEXT, "execveat");
	*(void **)&ta_next_exit = dlsym(RTLD_NEXT, "_exit");
	*(void **)&ta_next_Exit = dlsym(RTLD_NEXT, "_Exit");
	ta_exec_pid = getpid();
}

void ta_exec_atfork_child(void)
{
	ta_exec_pid = getpid();
}

static void ta_exec_flush(void)
{
	if (getpid() == ta_exec_pid)
		ta_batch_flush_all(false);
}

#define TA_CALL_NEXT(next, ...)              \
	do {                                 \
		ta_exec_flush();             \
		if (!(next)) {               \
			errno = ENOSYS;      \
			return -1;           \
		}                            \
		return (next)(__VA_ARGS__);  \
	} while (0)

TA_API int execve(const char *path, char *const argv[], char *const envp[])
{
	TA_CALL_NEXT(ta_next_execve, path, argv, envp);
}

TA_API int execv(const char *path, char *const argv[])
{
	TA_CALL_NEXT(ta_next_execv, path, argv);
}

TA_API int execvp(const char *file, char *const argv[])
{
	TA_CALL_NEXT(ta_next_execvp, file, argv);
}

TA_API int execvpe(const char *file, char *const argv[], char *const envp[])
{
	TA_CALL_NEXT(ta_next_execvpe, file, argv, envp);
}

TA_API int fexecve(int fd, char *const argv[], char *const envp[])
{
	TA_CALL_NEXT(ta_next_fexecve, fd, argv, envp);
}

TA_API int execveat(int dirfd, const char *path, char *const argv[], char *const envp[],
                    int flags)
{
	TA_CALL_NEXT(ta_next_execveat, dirfd, path, argv, envp, flags);
}

/* The list forms: the arguments gathered on the stack, as glibc does. */
#define TA_GATHER(first, ap, argv)                                      \
	do {                                                            \
		size_t n_ = 1;                                          \
		va_list c_;                                             \
		va_copy(c_, ap);                                        \
		while (va_arg(c_, char *))                              \
			n_++;                                           \
		va_end(c_);                                             \
		argv = __builtin_alloca((n_ + 1) * sizeof(char *));     \
		argv[0] = (char *)(first);                              \
		for (size_t i_ = 1; i_ <= n_; i_++)                     \
			argv[i_] = va_arg(ap, char *); /* the last: NULL */ \
	} while (0)

TA_API int execl(const char *path, const char *arg, ...)
{
	char **argv;
	va_list ap;

	va_start(ap, arg);
	TA_GATHER(arg, ap, argv);
	va_end(ap);
	TA_CALL_NEXT(ta_next_execv, path, argv);
}

TA_API int execlp(const char *file, const char *arg, ...)
{
	char **argv;
	va_list ap;

	va_start(ap, arg);
	TA_GATHER(arg, ap, argv);
	va_end(ap);
	TA_CALL_NEXT(ta_next_execvp, file, argv);
}

TA_API int execle(const char *path, const char *arg, ...)
{
	char **argv, **envp;
	va_list ap;

	va_start(ap, arg);
	TA_GATHER(arg, ap, argv);
	envp = va_arg(ap, char **); /* after the NULL that ends the list */
	va_end(ap);
	TA_CALL_NEXT(ta_next_execve, path, argv, envp);
}

TA_API void _exit(int status)
{
	ta_exec_flush();
	if (ta_next_exit)
		ta_next_exit(status);
	for (;;)
		syscall(SYS_exit_group, status);
}

TA_API void _Exit(int status)
{
	ta_exec_flush();
	if (ta_next_Exit)
		ta_next_Exit(status);
	for (;;)
		syscall(SYS_exit_group, status);
}
