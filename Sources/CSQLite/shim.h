// SQLite from Debian's libsqlite3-dev: the coordinator's durable state.
#include <sqlite3.h>
