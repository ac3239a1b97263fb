/** Module hooks for the probe child: `import ... from "electron"` gets the recording double. */
import { register } from 'node:module';

register(
  'data:text/javascript,' +
    encodeURIComponent(`
const fake = ${JSON.stringify(new URL('./fakeElectron.mjs', import.meta.url).href)};
export async function resolve(specifier, context, next) {
  if (specifier === 'electron') return { url: fake, shortCircuit: true };
  return next(specifier, context);
}`),
);
