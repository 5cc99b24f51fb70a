import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMANDS } from '../../src/cli/main';
import { ENVIRONMENT_VARIABLES } from '../../src/config';

const README = readFileSync(join(__dirname, '../../README.md'), 'utf8');

/** The text of the README section `## <title>`, up to the next `## ` heading. */
function section(title: string): string {
  const start = README.indexOf(`\n## ${title}\n`);
  expect(start, `README section "## ${title}"`).to.be.above(-1);
  const end = README.indexOf('\n## ', start + 1);
  return README.slice(start, end === -1 ? undefined : end);
}

/** The first cell of every row of the section's tables, header and divider rows left out. */
function firstCells(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|\s*-/.test(line))
    .slice(1)
    .map((line) => line.split('|')[1]!.trim());
}

const codeSpans = (text: string) => [...text.matchAll(/`([^`]+)`/g)].map((match) => match[1]!);

describe('documentation (README.md) against the code', () => {
  it('lists every environment variable that src/config.ts reads in the configuration table, and none that it does not', () => {
    const documented = firstCells(section('Configuration')).flatMap(codeSpans);
    expect(ENVIRONMENT_VARIABLES).to.not.be.empty;
    for (const variable of ENVIRONMENT_VARIABLES) expect(documented, `README configuration table: ${variable}`).to.include(variable);
    for (const variable of documented) expect(ENVIRONMENT_VARIABLES, `README documents ${variable}, which src/config.ts does not read`).to.include(variable);
  });

  it('lists every CLI command with every option its usage shows, and --help', () => {
    const cli = section('CLI');
    const documentedCommands = firstCells(cli).flatMap((cell) => [...cell.matchAll(/`tessera ([a-z-]+)/g)].map((match) => match[1]!));
    for (const command of COMMANDS) {
      expect(documentedCommands, `README CLI table: tessera ${command.name}`).to.include(command.name);
      for (const [option] of command.usage.matchAll(/--[a-z][a-z-]*/g)) expect(cli, `README CLI section: tessera ${command.name} ${option}`).to.include(option);
    }
    for (const name of documentedCommands) expect(COMMANDS.map((command) => command.name), `README documents tessera ${name}`).to.include(name);
    expect(cli).to.include('--help');
  });
});
