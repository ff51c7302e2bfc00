/** The real browser the dashboard tests drive: Debian's Chromium through playwright-core (nothing downloaded). */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Where `.ci/run` installs Chromium (`apt-get install chromium`). */
export const CHROMIUM = '/usr/bin/chromium';

/** Launches headless Chromium with no network of its own (no updates, sync or QUIC). */
export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
