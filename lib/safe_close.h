/* twshim — TWSHIM_LINGER=safe: RST only when nothing can be lost.
 *
 * Every close path the library sees calls tw_safe_before_close(fd) just
 * before the real call that closes fd.  Async-signal-safe: system calls and
 * atomics only.  errno preserved. */
#ifndef TWSHIM_SAFE_CLOSE_H
#define TWSHIM_SAFE_CLOSE_H

#include <stdbool.h>
#include <stdint.h>

#include "pin.h"

/* newfd now refers to the same socket as oldfd (dup, dup2, dup3, F_DUPFD). */
void tw_fd_note_dup(int oldfd, int newfd);

/* fd is about to be closed: take its record, and if it was a safe socket,
 * decide (waiting for ACKs if allowed) and set SO_LINGER {1,0} when the RST
 * loses nothing.  Also releases a pinned-port reservation.  Costs one load
 * when fd has no record. */
void tw_fd_before_close(int fd);
/* The same with may_rst false: the caller knows data will still be written
 * after this point (stdio output buffered in fclose), so close normally. */
void tw_fd_before_close_as(int fd, bool may_rst);

/* At exit: decide for every safe socket still open (the kernel closes them
 * when the process ends); one drain deadline shared by all. */
void tw_safe_exit_pass(void);

#endif
