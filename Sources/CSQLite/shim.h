// SQLite 3 for Swift (imports as is; SQLITE_TRANSIENT is a cast macro, see Office module).
#ifndef SHIHUI_CSQLITE_SHIM_H
#define SHIHUI_CSQLITE_SHIM_H
#include <sqlite3.h>
#endif
