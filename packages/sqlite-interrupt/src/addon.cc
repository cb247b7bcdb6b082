// The Node side of the library: interrupt(), isRegistered(), registeredCount() and
// loadedConnectionId().
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "extension.h"
#include "registry.h"

namespace {

using unblock_sqlite_interrupt::kEntryPoint;
using unblock_sqlite_interrupt::kMaxSafeInteger;
using unblock_sqlite_interrupt::Registry;

// Node's wording for a wrong argument ("Received type string ('7')"), so the message reads like
// the ones users already know.
std::string Describe(const Napi::Value& value) {
  switch (value.Type()) {
    case napi_undefined:
      return "undefined";
    case napi_null:
      return "null";
    case napi_number:
      return "type number (" + value.ToString().Utf8Value() + ")";
    case napi_string: {
      std::string text = value.As<Napi::String>().Utf8Value();
      if (text.size() > 25) text = text.substr(0, 25) + "...";
      return "type string ('" + text + "')";
    }
    case napi_boolean:
      return "type boolean";
    case napi_bigint:
      return "type bigint";
    case napi_symbol:
      return "type symbol";
    case napi_function:
      return "function";
    default:
      return "an instance of Object";
  }
}

// Reads info[0] as a connection id. On anything but a safe integer it throws a TypeError
// (code UNBLOCK_ERR_INVALID_ARG) and returns false; the caller then returns an empty value.
bool ReadId(const Napi::CallbackInfo& info, int64_t* id) {
  Napi::Value arg = info[0];
  if (arg.IsNumber()) {
    double value = arg.As<Napi::Number>().DoubleValue();
    // NaN fails the first test, the infinities the second.
    if (std::trunc(value) == value && std::fabs(value) <= static_cast<double>(kMaxSafeInteger)) {
      *id = static_cast<int64_t>(value);
      return true;
    }
  }
  Napi::Env env = info.Env();
  Napi::Error error = Napi::TypeError::New(
      env, "The \"id\" argument must be a safe integer. Received " + Describe(arg));
  error.Set("code", Napi::String::New(env, "UNBLOCK_ERR_INVALID_ARG"));
  error.ThrowAsJavaScriptException();
  return false;
}

// One instance per Node environment (the main thread and each worker that loads the addon), kept
// by N-API as that environment's instance data, so loading it in several threads at once shares
// no JavaScript state. It holds none of its own: what threads must share is the Registry.
class SqliteInterruptAddon : public Napi::Addon<SqliteInterruptAddon> {
 public:
  SqliteInterruptAddon(Napi::Env env, Napi::Object exports) {
    DefineAddon(exports,
                {
                    InstanceMethod<&SqliteInterruptAddon::Interrupt>("interrupt", napi_enumerable),
                    InstanceMethod<&SqliteInterruptAddon::IsRegistered>("isRegistered",
                                                                        napi_enumerable),
                    InstanceMethod<&SqliteInterruptAddon::RegisteredCount>("registeredCount",
                                                                           napi_enumerable),
                    InstanceMethod<&SqliteInterruptAddon::LoadedConnectionId>(
                        "loadedConnectionId", napi_enumerable),
                    InstanceValue("entryPoint", Napi::String::New(env, kEntryPoint),
                                  napi_enumerable),
                });
  }

 private:
  Napi::Value Interrupt(const Napi::CallbackInfo& info) {
    int64_t id = 0;
    if (!ReadId(info, &id)) return Napi::Value();
    return Napi::Boolean::New(info.Env(), Registry::Instance().Interrupt(id));
  }

  Napi::Value IsRegistered(const Napi::CallbackInfo& info) {
    int64_t id = 0;
    if (!ReadId(info, &id)) return Napi::Value();
    return Napi::Boolean::New(info.Env(), Registry::Instance().Contains(id));
  }

  Napi::Value RegisteredCount(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(Registry::Instance().Size()));
  }

  Napi::Value LoadedConnectionId(const Napi::CallbackInfo& info) {
    int64_t id = unblock_sqlite_interrupt::LastLoadedConnectionId();
    if (id == 0) return info.Env().Undefined();
    return Napi::Number::New(info.Env(), static_cast<double>(id));
  }
};

}  // namespace

NODE_API_ADDON(SqliteInterruptAddon)
