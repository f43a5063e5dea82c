# plugins/log links Debian's libsqlite3 (libsqlite3-dev); nothing else does.
LIBS_log := -lsqlite3
