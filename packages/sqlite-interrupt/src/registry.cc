#include "registry.h"

#include "sqlite3ext.h"
// The routine table lives in extension.cc; sqlite3_interrupt below expands to a call through it.
SQLITE_EXTENSION_INIT3

namespace unblock_sqlite_interrupt {

Registry& Registry::Instance() {
  // Deliberately leaked. A static object would be destroyed by exit() while Node's teardown can
  // still close connections (whose destructors call Remove) or another thread can still call
  // Interrupt; a registry that outlives everything has no such window.
  static Registry* instance = new Registry();
  return *instance;
}

int64_t Registry::Add(sqlite3* db, bool* added) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto existing = by_db_.find(db);
  if (existing != by_db_.end()) {
    *added = false;
    return existing->second;
  }
  if (last_id_ == kMaxSafeInteger) {
    *added = false;
    return 0;
  }
  int64_t id = ++last_id_;
  by_id_.emplace(id, db);
  by_db_.emplace(db, id);
  *added = true;
  return id;
}

void Registry::Remove(int64_t id) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto entry = by_id_.find(id);
  if (entry == by_id_.end()) return;
  by_db_.erase(entry->second);
  by_id_.erase(entry);
}

bool Registry::Interrupt(int64_t id) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto entry = by_id_.find(id);
  if (entry == by_id_.end()) return false;
  // Safe from any thread, and the connection cannot be freed under us: SQLite runs the destructor
  // that calls Remove (which waits for this mutex) before it frees the sqlite3 object. Holding the
  // mutex here cannot deadlock with that close either: sqlite3_interrupt only stores a flag
  // atomically and takes no SQLite mutex, so a closing thread never holds something we wait for.
  sqlite3_interrupt(entry->second);
  return true;
}

bool Registry::Contains(int64_t id) {
  std::lock_guard<std::mutex> lock(mutex_);
  return by_id_.count(id) != 0;
}

std::size_t Registry::Size() {
  std::lock_guard<std::mutex> lock(mutex_);
  return by_id_.size();
}

}  // namespace unblock_sqlite_interrupt
