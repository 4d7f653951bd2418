// A request that must be made once per key (a mailed link's single-use token), however
// often the page that makes it renders or is mounted again.

/**
 * The one pending or settled `run(key)` for `key`, started on the first call. An outcome
 * `retryable` says may be tried again (the request never reached the API) is forgotten, so
 * the next call runs anew; any other outcome is the answer for good.
 */
export function onceFor<T>(
  cache: Map<string, Promise<T>>,
  key: string,
  run: (key: string) => Promise<T>,
  retryable: (outcome: T) => boolean,
): Promise<T> {
  const known = cache.get(key);
  if (known) return known;
  const pending = run(key).then((outcome) => {
    if (retryable(outcome)) cache.delete(key);
    return outcome;
  });
  cache.set(key, pending);
  return pending;
}
