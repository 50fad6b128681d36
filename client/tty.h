/* tty.h: questions asked on the terminal itself (/dev/tty), so that they
 * work also when standard input is a script: the password without echo,
 * a yes/no confirmation. */
#ifndef CALLDESK_CLIENT_TTY_H
#define CALLDESK_CLIENT_TTY_H

#include <stdbool.h>

/* Prints prompt and reads one line with echo off. Returns a malloc'd
 * string without its line end (the caller wipes and frees it), or NULL
 * when there is no terminal or it was closed. */
char *tty_read_secret(const char *prompt);

/* Prints question and reads an answer; true only for y or yes. */
bool tty_confirm(const char *question);

/* Prints prompt and reads a line with echo; malloc'd, or NULL. */
char *tty_read_line(const char *prompt);

#endif
