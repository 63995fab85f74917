/* twshim — the supervisor's launcher: the child side and its messages. */
#ifndef TWSHIM_SUPERVISE_LAUNCH_H
#define TWSHIM_SUPERVISE_LAUNCH_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "supervise_internal.h"

enum tw_sup_msg_kind {
	TW_SUP_MSG_LISTENER = 1, /* carries the listener fd */
	TW_SUP_MSG_SETUP_FAILED, /* the filter could not be installed */
	TW_SUP_MSG_EXEC_FAILED,  /* execvp failed */
};

struct tw_sup_msg {
	int kind;
	int err;
	char stage[96];
};

/* The forked child: install the filter, send the listener over sock, wait
 * for 'G', restore mask, exec argv.  Never returns. */
_Noreturn void tw_sup_child(int sock, pid_t parent, bool trap_bind, char *const argv[],
			    const sigset_t *mask);

/* Receive one message (and an fd, if one came).  Returns 1, 0 at EOF, or
 * -1 with errno. */
int tw_sup_recv_msg(int sock, struct tw_sup_msg *m, int *fd);

#endif
