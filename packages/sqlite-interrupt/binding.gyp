# One shared library that is both a Node addon (napi_register_module_v1) and a SQLite loadable
# extension (sqlite3_sqliteinterrupt_init). It links no SQLite of its own: the headers come from
# better-sqlite3 only to describe sqlite3_api_routines, and every SQLite call goes through the
# routine table handed to the extension entry point.
{
  'targets': [
    {
      # The file name fixes the default entry point: SQLite derives "sqlite3_" + the letters of
      # "sqlite_interrupt" + "_init" = sqlite3_sqliteinterrupt_init when none is given.
      'target_name': 'sqlite_interrupt',
      'sources': [
        'src/addon.cc',
        'src/extension.cc',
        'src/registry.cc',
      ],
      'include_dirs': [
        '<!(node scripts/sqlite-include-dir.mjs)',
      ],
      # node_addon_api (not _except): C++ exceptions are off. SQLite calls our function and
      # destructor callbacks from C frames, where an escaping exception is undefined behaviour;
      # with -fno-exceptions none can exist, and the N-API surface is three small functions that
      # report errors by throwing JavaScript TypeErrors.
      'dependencies': [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api",
      ],
      'defines': [
        'NAPI_VERSION=8',
        # A worker terminated while this addon loads cannot take an exception; without this,
        # node-addon-api aborts the whole process instead of dropping it.
        'NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS',
      ],
      # Export only the two entry points. SQLite dlopen()s extensions with RTLD_GLOBAL, so any
      # other exported symbol (notably the sqlite3_api pointer that SQLITE_EXTENSION_INIT1
      # defines, which every extension has) would interpose on the same name in extensions
      # loaded later, and those would write their routine table into ours.
      'cflags': [
        '-fvisibility=hidden',
      ],
      'cflags_cc': [
        '-std=c++17',
        '-fvisibility=hidden',
        '-fvisibility-inlines-hidden',
      ],
      'xcode_settings': {
        'CLANG_CXX_LANGUAGE_STANDARD': 'c++17',
        'GCC_SYMBOLS_PRIVATE_EXTERN': 'YES',
      },
      'msvs_settings': {
        'VCCLCompilerTool': {
          'AdditionalOptions': ['/std:c++17'],
        },
      },
    },
  ],
}
