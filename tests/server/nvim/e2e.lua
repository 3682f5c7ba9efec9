-- Neovim 0.7 headless end-to-end test of the unasync language server (vim.lsp.start_client).
-- Scenario 1: edit + save an async source -> drift diagnostic at the first changed line ->
-- "Regenerate sync_x.c" code action with the cursor on line 1 -> twin correct on disk ->
-- diagnostics cleared. Scenario 2: the same for a hand-edited twin open in the editor
-- (workspace/applyEdit path), cursor on line 1. Then shutdown; the server must exit 0.
-- Env: E2E_WS (workspace folder), E2E_SERVER (server command).
local ws = assert(os.getenv('E2E_WS'), 'E2E_WS unset')
local server = vim.split(assert(os.getenv('E2E_SERVER'), 'E2E_SERVER unset'), ' ', { trimempty = true })

local function log(...) io.stdout:write(table.concat(vim.tbl_map(tostring, { ... }), ' ') .. '\n') end
local function finish(code)
  io.stdout:flush()
  vim.cmd((code == 0) and 'qall!' or ('cquit ' .. code))
end
vim.defer_fn(function() log('FAIL: global timeout'); finish(3) end, 60000)

local function wait_for(what, ms, cond)
  if not vim.wait(ms, cond, 20) then error('timed out waiting for ' .. what, 0) end
  log('ok:', what)
end
local function read(path) return table.concat(vim.fn.readfile(path), '\n') end
local function pick(title)
  vim.ui.select = function(items, opts, on_choice)
    for i, item in ipairs(items) do
      local t = opts.format_item and opts.format_item(item) or item[2].title
      if t == title then return on_choice(item, i) end
    end
    error('no code action titled ' .. title)
  end
end

local exit_code
local function run()
  local src, twin = ws .. '/x.c', ws .. '/sync_x.c'
  vim.cmd('edit ' .. vim.fn.fnameescape(src))
  local sbuf = vim.api.nvim_get_current_buf()
  local client_id = vim.lsp.start_client({
    name = 'unasync', cmd = server, root_dir = ws,
    settings = { unasync = { drift = { severity = 'warning' } } },
    on_exit = function(code) exit_code = code end,
  })
  assert(client_id, 'start_client failed')
  assert(vim.lsp.buf_attach_client(sbuf, client_id), 'attach failed')
  wait_for('client initialized', 10000, function()
    local c = vim.lsp.get_client_by_id(client_id)
    return c and c.initialized
  end)
  assert(#vim.diagnostic.get(sbuf) == 0, 'twin should start in sync')

  -- 1. edit + save the source
  local lines = vim.api.nvim_buf_get_lines(sbuf, 0, -1, false)
  for i, l in ipairs(lines) do
    if l:find('return id;', 1, true) then
      vim.api.nvim_buf_set_lines(sbuf, i - 1, i, false, { '    return id + 1;' })
    end
  end
  vim.cmd('write')
  wait_for('drift summary on the source', 10000, function() return #vim.diagnostic.get(sbuf) == 1 end)
  local d = vim.diagnostic.get(sbuf)[1]
  log('diag:', d.message)
  -- the engine's words, as --check prints them, at the first changed source line
  assert(d.message == "sync_x.c is out of date with x.c (1 hunk); run 'unasync --write'", d.message)
  assert(d.lnum == 4, 'drift diagnostic on line ' .. d.lnum)
  local tbuf = vim.uri_to_bufnr(vim.uri_from_fname(twin))
  wait_for('hunk diagnostic on the unopened twin', 5000, function() return #vim.diagnostic.get(tbuf) == 1 end)
  -- the cursor on line 1, away from the diagnostic: the source action is offered there too
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  pick('Regenerate sync_x.c')
  vim.lsp.buf.code_action()
  wait_for('twin regenerated on disk', 10000, function() return read(twin):find('return id + 1;', 1, true) ~= nil end)
  wait_for('source diagnostics cleared', 10000, function() return #vim.diagnostic.get(sbuf) == 0 end)
  wait_for('twin diagnostics cleared', 10000, function() return #vim.diagnostic.get(tbuf) == 0 end)

  -- 2. a hand edit in the open twin
  vim.cmd('edit ' .. vim.fn.fnameescape(twin))
  tbuf = vim.api.nvim_get_current_buf()
  assert(vim.lsp.buf_attach_client(tbuf, client_id), 'attach twin failed')
  local good = read(twin)
  local tl = vim.api.nvim_buf_get_lines(tbuf, 0, -1, false)
  for i, l in ipairs(tl) do
    if l:find('return id + 1;', 1, true) then
      vim.api.nvim_buf_set_lines(tbuf, i - 1, i, false, { '    return id + 2; /* hand edit */' })
    end
  end
  wait_for('generated-file warning while typing', 10000, function()
    for _, x in ipairs(vim.diagnostic.get(tbuf)) do
      if x.message:find('this file is generated; edit x.c instead', 1, true) then return true end
    end
  end)
  local hunk
  for _, x in ipairs(vim.diagnostic.get(tbuf)) do
    if x.message:find('edited by hand', 1, true) then hunk = x end
    assert(not x.message:find('out of date', 1, true), 'hand-edited twin told: ' .. x.message)
  end
  assert(hunk, 'no hunk diagnostic on the twin')
  -- line 1, where the generated-file warning is: it offers Regenerate as well
  vim.api.nvim_win_set_cursor(0, { 1, 0 })
  pick('Regenerate sync_x.c')
  vim.lsp.buf.code_action()
  wait_for('applyEdit restored the buffer', 10000, function()
    return table.concat(vim.api.nvim_buf_get_lines(tbuf, 0, -1, false), '\n') == good
  end)
  wait_for('twin diagnostics cleared after the edit', 10000, function() return #vim.diagnostic.get(tbuf) == 0 end)
  vim.cmd('write')
  assert(read(twin) == good, 'twin on disk not correct')
  log('ok: twin correct on disk')

  -- 3. shutdown + exit: status 0
  vim.lsp.stop_client(client_id)
  wait_for('server exited', 10000, function() return exit_code ~= nil end)
  assert(exit_code == 0, 'server exit status ' .. tostring(exit_code))
end

local ok, err = xpcall(run, debug.traceback)
if ok then log('PASS') finish(0) else log('FAIL:', err) finish(1) end
