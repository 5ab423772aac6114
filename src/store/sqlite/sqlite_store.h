// The embedded Store on SQLite 3 in WAL mode.
//
// Opening applies the versioned migrations (store/sqlite/migrations.cc) in
// one transaction and refuses a database whose schema is newer than this
// binary knows. Write transactions use BEGIN IMMEDIATE, so writers queue on
// the database lock instead of failing half-way; commits are fsync'd
// (synchronous=FULL).
#pragma once

#include <filesystem>
#include <memory>

#include "store/store.h"

namespace qorgau::store {

// The newest schema version this binary knows.
int LatestSchemaVersion();

// Opens (with `create`, creates) the database file. Fails with kNotFound
// when the file is missing and `create` is false, and kFailedPrecondition
// when its schema is newer than LatestSchemaVersion().
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::filesystem::path& file, bool create);

// Opens an existing database for reading only (`audit verify` beside a
// running server): no migration, no write; a schema older or newer than
// this binary's is kFailedPrecondition.
Result<std::unique_ptr<Store>> OpenSqliteStoreReadOnly(const std::filesystem::path& file);

}  // namespace qorgau::store
