// The SQLite side of the library: the loadable-extension entry point.
#ifndef UNBLOCK_SQLITE_INTERRUPT_EXTENSION_H_
#define UNBLOCK_SQLITE_INTERRUPT_EXTENSION_H_

#include <cstdint>

#include "sqlite3.h"

#if defined(_WIN32)
#define UNBLOCK_SQLITE_INTERRUPT_EXPORT __declspec(dllexport)
#else
#define UNBLOCK_SQLITE_INTERRUPT_EXPORT __attribute__((visibility("default")))
#endif

namespace unblock_sqlite_interrupt {

// Must spell the function declared below. It is also what SQLite derives from the file name
// sqlite_interrupt.node when no entry point is given ("sqlite3_" + its letters + "_init"), so
// db.loadExtension(path) works with or without the second argument.
inline constexpr char kEntryPoint[] = "sqlite3_sqliteinterrupt_init";

// The SQL function through which a connection tells its own thread which id it has.
inline constexpr char kIdFunctionName[] = "unblock_interrupt_id";

// The id of the connection that last loaded the extension on the calling thread (0: none did).
// Read right after loading, it gives the id without preparing a statement, which would have to
// read the schema and so wait for a lock that another connection may hold on the file.
int64_t LastLoadedConnectionId();

}  // namespace unblock_sqlite_interrupt

extern "C" UNBLOCK_SQLITE_INTERRUPT_EXPORT int sqlite3_sqliteinterrupt_init(
    sqlite3* db, char** error_message, const sqlite3_api_routines* api);

#endif  // UNBLOCK_SQLITE_INTERRUPT_EXTENSION_H_
