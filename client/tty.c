/* tty.c: prompts on the controlling terminal. */
#include "tty.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#define LINE_MAX_LEN 1024

/* Reads up to LF from fd, one byte at a time (nothing is read beyond the
 * line). NULL on end of file before any byte, or on error. */
static char *read_line_fd(int fd)
{
	char *buf = malloc(LINE_MAX_LEN);
	size_t n = 0;

	if (buf == NULL)
		return NULL;
	for (;;) {
		char c;
		ssize_t r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (n == 0) {
				free(buf);
				return NULL;
			}
			break;
		}
		if (c == '\n')
			break;
		if (n + 1 < LINE_MAX_LEN)
			buf[n++] = c;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return buf;
}

static char *ask(const char *prompt, bool echo)
{
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
	struct termios saved, quiet;
	bool restore = false;

	if (fd < 0)
		return NULL;
	if (write(fd, prompt, strlen(prompt)) < 0) {
		close(fd);
		return NULL;
	}
	if (!echo && tcgetattr(fd, &saved) == 0) {
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		restore = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
	}
	char *line = read_line_fd(fd);
	if (restore) {
		tcsetattr(fd, TCSAFLUSH, &saved);
		/* The user's Enter was not echoed; a failed write only
		 * costs the line feed. */
		ssize_t w = write(fd, "\n", 1);
		(void)w;
	}
	close(fd);
	return line;
}

char *tty_read_secret(const char *prompt)
{
	return ask(prompt, false);
}

char *tty_read_line(const char *prompt)
{
	return ask(prompt, true);
}

bool tty_confirm(const char *question)
{
	char *answer = ask(question, true);
	bool yes = answer != NULL && (strcasecmp(answer, "y") == 0 ||
				      strcasecmp(answer, "yes") == 0);

	free(answer);
	return yes;
}
