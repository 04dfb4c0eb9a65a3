/**
 * Mosquitto's password and ACL files, written by the gateway to keep an external broker's credentials in
 * step with the on-chain device registry (docs/protocol.md §16.4, external broker trust model).
 *
 * Password lines use Mosquitto 2.x's PBKDF2 format, as mosquitto_passwd writes them:
 *   user:$7$<iterations>$<base64 salt (12 bytes)>$<base64 PBKDF2-HMAC-SHA512(password, salt, iterations, 64)>
 * The ACL gives anonymous clients only the enrolment topics, the gateway the chain's whole tree, and every
 * named user (a device: username = its id hex) its own req/res topics and the announcements, by pattern.
 */
import { pbkdf2Sync, randomBytes } from 'node:crypto';
import { chownSync, renameSync, statSync, writeFileSync } from 'node:fs';

/** mosquitto_passwd's default; tokens are 64-byte signatures, so a slow hash buys nothing here. */
const ITERATIONS = 101;

export function mosquittoPasswordLine(username: string, password: string): string {
  if (/[:\s]/.test(username)) throw new RangeError('mosquitto username may not contain ":" or spaces');
  const salt = randomBytes(12);
  const hash = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, ITERATIONS, 64, 'sha512');
  return `${username}:$7$${ITERATIONS}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export function mosquittoAcl(chainId: string, gatewayUsername: string): string {
  return [
    '# Written by the iosnet gateway (docs/protocol.md §16.4): do not edit.',
    '# Anonymous clients: hand a token to the gateway, nothing else.',
    `topic write iosnet/${chainId}/auth/+`,
    '',
    `user ${gatewayUsername}`,
    `topic readwrite iosnet/${chainId}/#`,
    '',
    '# Every named user (a device; username = its identity hash hex): its own topics only.',
    `pattern write iosnet/${chainId}/d/%u/req`,
    `pattern read iosnet/${chainId}/d/%u/res`,
    `pattern read iosnet/${chainId}/s/+/sb`,
    '',
  ].join('\n');
}

/**
 * Writes a file atomically (Mosquitto may reload at any moment: it must never read half a file), keeping
 * the owner of the file it replaces: Mosquitto started as root reads its files as user `mosquitto`.
 */
export function writeFileAtomic(path: string, text: string, mode = 0o600): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode });
  try {
    const { uid, gid } = statSync(path);
    chownSync(tmp, uid, gid);
  } catch {
    // No file to replace, or not allowed to chown (not root): the new file keeps our owner.
  }
  renameSync(tmp, path);
}
