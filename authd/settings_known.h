/* settings_known: the names of Dovecot 2.3's top-level settings.
 *
 * authd loads a whole dovecot.conf: settings of other Dovecot services are
 * accepted and ignored, but a name Dovecot does not know either is still
 * an error, so typos are caught. The table (settings_known.c) is generated
 * from `doveconf -d` of Dovecot 2.3.19 and also gives each setting's
 * default, which `$name` references need. */
#ifndef AUTHD_SETTINGS_KNOWN_H
#define AUTHD_SETTINGS_KNOWN_H

#include <stdbool.h>

/* The Dovecot 2.3.19 default of top-level setting name, or NULL when
 * Dovecot has no such setting. Static storage. */
const char *settings_known_default(const char *name);

/* Whether name is a setting Dovecot 2.3 still accepts with an "obsolete
 * setting" warning (ssl_protocols, login_user ...). */
bool settings_known_obsolete(const char *name);

/* Whether name is a section type Dovecot 2.3 accepts at the top level
 * (service, protocol, namespace, passdb, plugin ...). */
bool settings_known_section(const char *name);

#endif
