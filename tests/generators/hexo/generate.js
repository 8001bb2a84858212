// `hexo generate` for the site folder in argv[2], through Hexo's own API: hexo-cli only finds
// the folder, sets env.init (without it Hexo reads neither _config.yml nor plugins) and calls
// these. The Markdown renderer is loaded from here, so the site folder needs no package.json
// or node_modules of its own.
const path = require('path');
const Hexo = require('hexo');

async function main(site) {
  const hexo = new Hexo(path.resolve(site), {silent: true});
  hexo.env.init = true;
  await hexo.init();
  await hexo.loadPlugin(require.resolve('hexo-renderer-marked'));
  await hexo.call('generate', {});
  await hexo.exit();
}

main(process.argv[2]).catch(err => { console.error(err); process.exit(1); });
