// The process-global registry of SQLite connections that loaded this extension.
//
// It is plain C++ state, shared by every thread and every Node environment in the process, because
// an interrupt is by nature a cross-thread call: a connection lives in one worker and is
// interrupted from another thread. Node environments (the main thread, each worker) get their own
// addon instance; all of them reach this one registry.
#ifndef UNBLOCK_SQLITE_INTERRUPT_REGISTRY_H_
#define UNBLOCK_SQLITE_INTERRUPT_REGISTRY_H_

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <unordered_map>

#include "sqlite3.h"

namespace unblock_sqlite_interrupt {

// Ids cross into JavaScript as numbers, so none may exceed Number.MAX_SAFE_INTEGER.
constexpr int64_t kMaxSafeInteger = 9007199254740991;

class Registry {
 public:
  static Registry& Instance();

  // Registers `db` under a fresh id and sets *added. Loading the extension twice on one connection
  // must not give it two ids, so a connection already present keeps its id (*added = false).
  // Returns 0 only if ids ran out, which at a million connections a second takes 285 years.
  int64_t Add(sqlite3* db, bool* added);

  // Forgets `id`; unknown ids are ignored. Called by SQLite, through the SQL function's
  // destructor, while the connection closes and before its memory is freed.
  void Remove(int64_t id);

  // Calls sqlite3_interrupt on the connection registered as `id`; false if there is none.
  bool Interrupt(int64_t id);

  bool Contains(int64_t id);
  std::size_t Size();

 private:
  Registry() = default;

  std::mutex mutex_;
  // Ids are never reused, so a stale id held by a caller can never reach a newer connection.
  int64_t last_id_ = 0;
  std::unordered_map<int64_t, sqlite3*> by_id_;
  std::unordered_map<sqlite3*, int64_t> by_db_;
};

}  // namespace unblock_sqlite_interrupt

#endif  // UNBLOCK_SQLITE_INTERRUPT_REGISTRY_H_
