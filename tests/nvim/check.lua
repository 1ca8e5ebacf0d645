-- Neovim's built-in LSP client against `vplc lsp`, headless (tests/lsp_nvim.rs runs it
-- with Neovim 0.7's API: vim.lsp.start_client + vim.lsp.buf_attach_client).
--
-- Opens $VPL_FILE, which has a batch-size error; waits for the diagnostics the client
-- received; asks for a hover on the model; replaces the batched flow with a single stream,
-- which fixes it; waits for the diagnostics to clear; shuts the server down. Each step
-- writes one line to $VPL_RESULT, which the Rust test compares.

local vplc = os.getenv("VPLC")
local file = os.getenv("VPL_FILE")
local result_path = os.getenv("VPL_RESULT")
local timeout = 20000

local lines = {}
local function record(line)
  table.insert(lines, line)
end

local function run()
  vim.lsp.set_log_level("ERROR")
  vim.cmd("edit " .. vim.fn.fnameescape(file))
  local buf = vim.api.nvim_get_current_buf()
  local client_id = vim.lsp.start_client({
    name = "vplc",
    cmd = { vplc, "lsp" },
    root_dir = vim.fn.fnamemodify(file, ":h"),
  })
  if not client_id then
    record("error: the client did not start")
    return
  end
  vim.lsp.buf_attach_client(buf, client_id)

  local function diagnostics()
    return vim.diagnostic.get(buf)
  end
  if not vim.wait(timeout, function() return #diagnostics() > 0 end, 20) then
    record("timeout: no diagnostics")
    return
  end
  for _, d in ipairs(diagnostics()) do
    record(string.format("diagnostic %s line %d", tostring(d.code), d.lnum + 1))
  end
  -- How the client sends edits: 2 is incremental (ranges), which the server asked for.
  local client = vim.lsp.get_client_by_id(client_id)
  record("sync " .. tostring(client.resolved_capabilities.text_document_did_change))

  -- Hover on `det` in `infer(det)`: the model's tensor signature.
  local text = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  for i, line in ipairs(text) do
    local col = line:find("infer(det)", 1, true)
    if col then
      local params = {
        textDocument = { uri = vim.uri_from_bufnr(buf) },
        position = { line = i - 1, character = col + 6 },
      }
      local replies = vim.lsp.buf_request_sync(buf, "textDocument/hover", params, timeout) or {}
      local reply = replies[client_id]
      local value = reply and reply.result and reply.result.contents.value or "(none)"
      record("hover " .. (value:match("model det: [^\n]*") or value))
    end
  end

  -- The fix: one stream, batches of one frame (a list of two would then warn, W0301).
  for i, line in ipairs(text) do
    if line:find("batch(size: 2)", 1, true) then
      vim.api.nvim_buf_set_lines(buf, i - 1, i, false, {
        "    test() | batch(size: 1) | infer(det) | unbatch | json | stdout;",
      })
    end
  end
  if not vim.wait(timeout, function() return #diagnostics() == 0 end, 20) then
    for _, d in ipairs(diagnostics()) do
      record(string.format("left: %s line %d", tostring(d.code), d.lnum + 1))
    end
    record("timeout: the diagnostics did not clear")
    return
  end
  record("cleared")

  vim.lsp.stop_client(client_id)
  if vim.wait(timeout, function() return vim.lsp.client_is_stopped(client_id) end, 20) then
    record("stopped")
  else
    record("timeout: the server did not stop")
  end
end

local ok, err = pcall(run)
if not ok then
  record("error: " .. tostring(err))
end
local out = io.open(result_path, "w")
if out then
  out:write(table.concat(lines, "\n") .. "\n")
  out:close()
end
vim.cmd("qall!")
