import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';

/** A self-signed certificate for `localhost` and 127.0.0.1, written to files for PARLEY_TLS_CERT/KEY. */
export interface TestCertificate {
  certFile: string;
  keyFile: string;
  /** The certificate's PEM: clients pass it as their trusted CA. */
  ca: string;
  /** The environment that makes a test server speak HTTPS with it. */
  env: { PARLEY_TLS_CERT: string; PARLEY_TLS_KEY: string };
}

let made: Promise<TestCertificate> | undefined;

/** One certificate per test process (making RSA keys is slow on a small machine). */
export function testCertificate(): Promise<TestCertificate> {
  made ??= (async () => {
    const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
      keySize: 2048,
      algorithm: 'sha256',
      extensions: [
        { name: 'basicConstraints', cA: true },
        {
          name: 'subjectAltName',
          altNames: [
            { type: 2, value: 'localhost' },
            { type: 7, ip: '127.0.0.1' },
          ],
        },
      ],
    });
    const dir = mkdtempSync(join(tmpdir(), 'parley-tls-'));
    const certFile = join(dir, 'cert.pem');
    const keyFile = join(dir, 'key.pem');
    writeFileSync(certFile, pems.cert);
    writeFileSync(keyFile, pems.private, { mode: 0o600 });
    return { certFile, keyFile, ca: pems.cert, env: { PARLEY_TLS_CERT: certFile, PARLEY_TLS_KEY: keyFile } };
  })();
  return made;
}
