/**
 * The log never shows the stream's `?token=`, however the key is written: the reader decodes query
 * keys (`?%74oken=` authenticates like `?token=`), and before only the literal `token=` was
 * redacted, so an encoded key put the token in the log in clear.
 */
import { redactedUrl } from '../../server/readAccess';

const SECRET = 'Oum0Nh2spydqcPhcsbI-gwTo1BG1pRc1jV3fK8N0zjw';

test.each([
  [`/events?token=${SECRET}`, '/events?token=(redacted)'],
  [`/events?%74oken=${SECRET}`, '/events?%74oken=(redacted)'],
  [`/events?%74%6F%6B%65%6E=${SECRET}&x=1`, '/events?%74%6F%6B%65%6E=(redacted)&x=1'],
  [`/events?x=1&token=${SECRET}&lastEventId=5`, '/events?x=1&token=(redacted)&lastEventId=5'],
  [`/events?TOKEN=${SECRET}`, '/events?TOKEN=(redacted)'],
  [`/events?to%ZZken=${SECRET}`, `/events?to%ZZken=${SECRET}`], // a malformed key is no token key (and reads as none)
  ['/strategies?limit=10', '/strategies?limit=10'],
  ['/summary', '/summary'],
])('%s -> %s', (url, logged) => {
  expect(redactedUrl(url)).toBe(logged);
});

test('what the stream accepts as its token is what the log hides', () => {
  for (const url of [`/events?%74oken=${SECRET}`, `/events?token=${SECRET}`, `/events?a=b&%74oken=${SECRET}`]) {
    expect(new URLSearchParams(url.split('?')[1]).get('token')).toBe(SECRET);
    expect(redactedUrl(url)).not.toContain(SECRET);
  }
});

test('long URLs are cut at 200 characters', () => {
  expect(redactedUrl(`/strategies/${'x'.repeat(300)}`)).toHaveLength(203);
});
