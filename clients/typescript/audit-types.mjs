// Lists every expression of the usage program whose type is `any` or `unknown`, or an object or
// array whose values are (a free-form object of the document, `{[key: string]: unknown}`): the
// places where the generated types do not say what the server sends. Exit status 1 when there
// are any. A caught exception (`unknown` under strict) is the program's own, not the document's,
// and is not counted.
//
//   node audit-types.mjs [tsconfig.json]
import path from "node:path";

import ts from "typescript";

const configPath = path.resolve(process.argv[2] ?? "tsconfig.json");
const parsed = ts.getParsedCommandLineOfConfigFile(configPath, {}, {
  ...ts.sys,
  onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
    throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"));
  },
});
if (parsed === undefined) {
  throw new Error(`cannot read ${configPath}`);
}
const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options });
const checker = program.getTypeChecker();
const LOOSE = ts.TypeFlags.Any | ts.TypeFlags.Unknown;

/** Why a type is loose, or undefined: itself, a member of a union, index values, elements. */
function looseness(type, depth = 0) {
  if (type.flags & LOOSE) {
    return checker.typeToString(type);
  }
  if (type.isUnion()) {
    for (const member of type.types) {
      const why = looseness(member, depth);
      if (why !== undefined) {
        return checker.typeToString(type);
      }
    }
    return undefined;
  }
  if (!(type.flags & ts.TypeFlags.Object)) {
    return undefined;
  }
  if (checker.isArrayType(type)) {
    if (depth > 0) {
      return undefined;
    }
    const [element] = checker.getTypeArguments(type);
    return element !== undefined && looseness(element, depth + 1) !== undefined
      ? checker.typeToString(type)
      : undefined;
  }
  for (const info of checker.getIndexInfosOfType(type)) {
    if (info.type.flags & LOOSE) {
      return checker.typeToString(type);
    }
  }
  return undefined;
}

function isCaughtException(node) {
  const symbol = checker.getSymbolAtLocation(node);
  const declaration = symbol?.valueDeclaration;
  return declaration !== undefined && ts.isCatchClause(declaration.parent);
}

const findings = new Map();
for (const file of program.getSourceFiles()) {
  if (file.isDeclarationFile || file.fileName.includes("/node_modules/")) {
    continue;
  }
  const visit = (node) => {
    if (ts.isTypeNode(node)) {
      return; // a type written in the program, not a value it touches
    }
    const candidate =
      (ts.isIdentifier(node) &&
        !(ts.isPropertyAccessExpression(node.parent) && node.parent.name === node) &&
        !isCaughtException(node)) ||
      ts.isPropertyAccessExpression(node) ||
      ts.isElementAccessExpression(node) ||
      ts.isCallExpression(node);
    if (candidate) {
      const why = looseness(checker.getTypeAtLocation(node));
      if (why !== undefined) {
        const { line, character } = file.getLineAndCharacterOfPosition(node.getStart(file));
        const where = `${path.relative(process.cwd(), file.fileName)}:${line + 1}`;
        const key = `${where} ${why}`;
        if (!findings.has(key)) {
          findings.set(key, `${where}:${character + 1}: ${node.getText(file)} has type ${why}`);
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
}

for (const finding of findings.values()) {
  console.log(finding);
}
console.log(
  findings.size === 0
    ? "no expression of type any or unknown"
    : `${findings.size} expressions of type any or unknown (or holding them)`,
);
process.exitCode = findings.size === 0 ? 0 : 1;
