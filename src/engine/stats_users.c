/* stats_users.c - what virtual users add to a thread's statistics (see
 * stats.h): exceptions by (message, location), and users by class. Both
 * lists are short (a script has few distinct errors and classes): linear
 * search, allocated only when an entry is new. Merging adds counts, so
 * threads and shards (barrage merge) sum exactly. */
#include "stats.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int stats_exception_add(stats_t *s, const char *message, const char *location, uint64_t count)
{
    for (size_t i = 0; i < s->nexceptions; i++) {
        stats_exception_t *e = &s->exceptions[i];
        if (!strcmp(e->message, message) && !strcmp(e->location, location)) {
            e->count += count;
            return 0;
        }
    }
    stats_exception_t *n = realloc(s->exceptions, (s->nexceptions + 1) * sizeof *n);
    if (!n) return -ENOMEM;
    s->exceptions = n;
    stats_exception_t *e = &n[s->nexceptions];
    e->message = strdup(message);
    e->location = strdup(location);
    if (!e->message || !e->location) {
        free(e->message);
        free(e->location);
        return -ENOMEM;
    }
    e->count = count;
    s->nexceptions++;
    return 0;
}

uint64_t stats_exceptions_total(const stats_t *s)
{
    uint64_t n = 0;
    for (size_t i = 0; i < s->nexceptions; i++) n += s->exceptions[i].count;
    return n;
}

int stats_class_add(stats_t *s, const char *name, uint64_t users)
{
    for (size_t i = 0; i < s->nclasses; i++)
        if (!strcmp(s->classes[i].name, name)) {
            s->classes[i].users += users;
            return 0;
        }
    stats_class_t *n = realloc(s->classes, (s->nclasses + 1) * sizeof *n);
    if (!n) return -ENOMEM;
    s->classes = n;
    if (!(n[s->nclasses].name = strdup(name))) return -ENOMEM;
    n[s->nclasses++].users = users;
    return 0;
}

void stats_users_merge(stats_t *dst, const stats_t *src)
{
    for (size_t i = 0; i < src->nexceptions; i++)
        (void)stats_exception_add(dst, src->exceptions[i].message, src->exceptions[i].location,
                                  src->exceptions[i].count);
    for (size_t i = 0; i < src->nclasses; i++) (void)stats_class_add(dst, src->classes[i].name, src->classes[i].users);
}

void stats_users_free(stats_t *s)
{
    for (size_t i = 0; i < s->nexceptions; i++) {
        free(s->exceptions[i].message);
        free(s->exceptions[i].location);
    }
    free(s->exceptions);
    for (size_t i = 0; i < s->nclasses; i++) free(s->classes[i].name);
    free(s->classes);
    s->exceptions = NULL;
    s->classes = NULL;
    s->nexceptions = s->nclasses = 0;
}
