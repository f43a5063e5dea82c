LIBS_cache := -lsqlite3
