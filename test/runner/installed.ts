// The smoke suite against the .vsix as installed (npm run test:installed): code-server installs
// dist-packages/attention-inspector-linux-x64-<version>.vsix (or the file given) with --install-extension
// into a fresh extensions directory, then runs test/installed/ in its extension host.
//
// The workbench runs a suite only beside an extension under development (the extension host refuses an
// extensionTestsPath alone: "Cannot load test runner"), so a tiny stand-in, test/installed/harness/, is
// that extension; it has another id and no code, and the extension under test is the installed copy.
// After the run, the extension host's log must hold no error.
import * as fs from 'fs';
import * as path from 'path';
import { ENV } from '../integration/contract';
import { installExtension } from './codeServerProcess';
import { exitWith, repoRoot, runSuite } from './suiteRun';

const outDir = path.join(repoRoot, 'test-output', 'installed');

function defaultVsix(): string {
  const { name, version } = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { name: string; version: string };
  return path.join(repoRoot, 'dist-packages', `${name}-linux-x64-${version}.vsix`);
}

const vsix = path.resolve(process.argv[2] ?? defaultVsix());
if (!fs.existsSync(vsix)) {
  console.error(`FAIL: ${vsix} does not exist: build it with npm run package -- --target linux-x64`);
  process.exit(1);
}

exitWith(
  runSuite({
    outDir,
    developmentPath: path.join(repoRoot, 'test', 'installed', 'harness'),
    testsPath: path.join(repoRoot, 'out', 'test', 'installed', 'index.js'),
    environment: (dirs) => ({ [ENV.extensionsDir]: dirs.extensions }),
    prepare: (install, dirs) => {
      console.log(`installing ${path.relative(repoRoot, vsix)} with code-server --install-extension`);
      installExtension(install, dirs, vsix, path.join(outDir, 'install.log'));
    },
    check: (dirs) => extensionHostErrors(dirs.userData),
  }),
);

/**
 * Every `[error]` line of the extension host's own log and of the extension's output channel (both kept in
 * the output folder's logs/). The built-in extensions' logs (Git, GitHub…) are not the extension's business.
 */
function extensionHostErrors(userData: string): string[] {
  const logsDir = path.join(userData, 'logs');
  const ours = (file: string) => /^(remote)?exthost\.log$/.test(path.basename(file)) || /output_logging_[^/]*\/\d+-Attention Inspector\.log$/.test(file);
  const logs = fs.existsSync(logsDir) ? fs.readdirSync(logsDir, { recursive: true, encoding: 'utf8' }).filter(ours) : [];
  if (!logs.some((file) => /exthost\.log$/.test(file))) return [`code-server wrote no extension host log under ${logsDir}`];
  const problems: string[] = [];
  for (const log of logs) {
    const text = fs.readFileSync(path.join(logsDir, log), 'utf8');
    fs.mkdirSync(path.dirname(path.join(outDir, 'logs', log)), { recursive: true });
    fs.writeFileSync(path.join(outDir, 'logs', log), text);
    for (const line of text.split('\n').filter((l) => /\[error\]/.test(l))) problems.push(`error in the extension host's log (${path.basename(log)}): ${line}`);
  }
  return problems;
}
