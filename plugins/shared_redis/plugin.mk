# The shared budget and rate limits in Redis: the only part that links
# hiredis (Debian's libhiredis-dev); the runner dlopens it for shared=.
LIBS_shared_redis := -lhiredis
