"""Django's Redis cache, with one Redis client per connection pool instead of one per call.

Django's `RedisCacheClient.get_client()` builds a new `redis.Redis` object for every cache
call (about 0.1 ms of Python: its option dictionaries, its retry policy), which is as much
as the round trip to a Redis on the same network. A page that reads the cache three times
paid that three times. The client is safe to share between threads (the pool hands each
command a connection), so this backend keeps the one it built.

Settings: `"BACKEND": "paperclub.redis_cache.RedisCache"`, otherwise as Django's.
"""

from django.core.cache.backends import redis


class RedisCacheClient(redis.RedisCacheClient):
    def __init__(self, servers, **options):
        super().__init__(servers, **options)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(pool)
        if client is None:
            client = self._clients[pool] = self._client(connection_pool=pool)
        return client


class RedisCache(redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient

    def redis_client(self):
        """The Redis client writes go through, for commands Django's cache API lacks."""
        return redis_client(self)


def redis_client(backend):
    """The Redis client of a Django Redis cache (this one or Django's own) that writes go
    through, or None for another kind of cache."""
    if isinstance(backend, redis.RedisCache):
        return backend._cache.get_client(None, write=True)
    return None


def decode(backend, value: bytes):
    """A value as a Django Redis cache (`backend`) stored it, read back as its get() would
    (for values a script read)."""
    return backend._cache._serializer.loads(value)
