/* warn_once: remembers which (key) events were already logged, so a
 * warning such as "weak password scheme used" appears once per user, not
 * per login. Bounded: keys are 64-bit keyed hashes in a fixed table; when
 * the table fills up it starts over (a few warnings repeat, memory stays
 * flat). */
#ifndef AUTHD_WARN_ONCE_H
#define AUTHD_WARN_ONCE_H

#include <stdbool.h>

#define WARN_ONCE_CAPACITY 8192u

struct warn_once;

struct warn_once *warn_once_create(void);
void warn_once_destroy(struct warn_once **w);
/* Returns true the first time key is seen (then it is remembered). */
bool warn_once_first(struct warn_once *w, const char *key);

#endif
