#include "extension.h"

#include <cstdint>
#include <mutex>
#include <new>

#include "registry.h"
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT1

namespace {

using unblock_sqlite_interrupt::kIdFunctionName;
using unblock_sqlite_interrupt::Registry;

// User data of the SQL function: the connection's id, freed by ForgetConnection.
struct ConnectionTag {
  int64_t id;
};

// See LastLoadedConnectionId(). Per thread: a connection loads the extension on the thread that
// uses it, and another thread's load must not change what this one reads.
thread_local int64_t last_loaded_id = 0;

// Points sqlite3_api (which every sqlite3_* call in this library goes through) at the routines of
// the SQLite that loads us first, and refuses any other. Two copies of SQLite can share a process
// (two better-sqlite3 versions, or node:sqlite), and a connection of one must never be handed to
// the other's functions; the routine table is what tells them apart. The pointer is written once,
// under the mutex, before any connection is registered, so later readers on other threads (an
// interrupt from the main thread) are ordered after the write by the registry's mutex.
bool BindSqliteApi(const sqlite3_api_routines* api) {
  static std::mutex* mutex = new std::mutex();  // leaked for the same reason as the registry
  std::lock_guard<std::mutex> lock(*mutex);
  if (sqlite3_api == nullptr) {
    SQLITE_EXTENSION_INIT2(api);
  }
  return sqlite3_api == api;
}

void ReportConnectionId(sqlite3_context* context, int, sqlite3_value**) {
  auto* tag = static_cast<ConnectionTag*>(sqlite3_user_data(context));
  sqlite3_result_int64(context, tag->id);
}

// SQLite calls this when the function is deleted: when the connection closes (before it frees the
// connection, so the registry never holds a dangling pointer), when the function is redefined,
// or when registering it failed.
void ForgetConnection(void* user_data) {
  auto* tag = static_cast<ConnectionTag*>(user_data);
  Registry::Instance().Remove(tag->id);
  delete tag;
}

}  // namespace

int64_t unblock_sqlite_interrupt::LastLoadedConnectionId() { return last_loaded_id; }

extern "C" int sqlite3_sqliteinterrupt_init(sqlite3* db, char** error_message,
                                             const sqlite3_api_routines* api) {
  if (!BindSqliteApi(api)) {
    // The message is freed by the loading SQLite, so it must come from that SQLite's allocator.
    if (error_message != nullptr) {
      *error_message = api->mprintf(
          "@unblock/sqlite-interrupt is already bound to another copy of SQLite in this process");
    }
    return SQLITE_ERROR;
  }

  bool added = false;
  int64_t id = Registry::Instance().Add(db, &added);
  if (id == 0) {
    if (error_message != nullptr) *error_message = sqlite3_mprintf("connection ids exhausted");
    return SQLITE_ERROR;
  }
  if (added) {
    auto* tag = new (std::nothrow) ConnectionTag{id};
    if (tag == nullptr) {
      Registry::Instance().Remove(id);
      return SQLITE_NOMEM;
    }
    int rc = sqlite3_create_function_v2(db, kIdFunctionName, 0, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                        tag, ReportConnectionId, nullptr, nullptr,
                                        ForgetConnection);
    if (rc != SQLITE_OK) {
      // SQLite has already run ForgetConnection(tag): the id is gone and the tag freed.
      if (error_message != nullptr) {
        *error_message = sqlite3_mprintf("could not create %s(): %s", kIdFunctionName,
                                         sqlite3_errstr(rc));
      }
      return rc;
    }
  }

  last_loaded_id = id;

  // Stay loaded when the connection closes. The registry and its id counter live in this library.
  // Otherwise SQLite would dlclose() it with each connection, and closing the last one would
  // unmap it; the next load would start a fresh counter and hand out ids that callers may still
  // hold for closed connections. When Node has dlopen()ed the file as an addon it stays mapped
  // anyway (Node never unloads addons); this makes it so when only SQLite loaded it.
  return SQLITE_OK_LOAD_PERMANENTLY;
}
