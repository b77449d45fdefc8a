// The sandbox console: a small Slack client for the local Slack stub.
// It long-polls /console/api/feed for what the signed-in person sees, draws messages, threads,
// modals and the Home tab from their Block Kit, and POSTs what the person does; the server turns
// each of those into the signed payload Slack would send the app. DOM nodes are built with
// textContent only, so no message text can become markup.
"use strict";

(() => {
  const S = {
    user: "",
    channel: "",
    thread: "",
    home: false,
    version: "",
    data: null,
    poll: null,
    messageNodes: new Map(),
    threadNodes: new Map(),
    modalKey: "",
    homeKey: "",
    follow: false,
  };

  const $ = (id) => document.getElementById(id);

  // --- small helpers ----------------------------------------------------------------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  function toast(text, kind) {
    const box = $("toast");
    box.textContent = text;
    box.className = kind || "error";
    box.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { box.hidden = true; }, 5000);
  }

  async function post(path, body) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    let answer = {};
    try { answer = await response.json(); } catch (_) { answer = {}; }
    if (!response.ok) throw new Error(answer.error || `HTTP ${response.status}`);
    return answer;
  }

  function refresh() {
    S.version = "";
    if (S.poll) S.poll.abort();
  }

  function writeHash() {
    const params = new URLSearchParams();
    if (S.user) params.set("u", S.user);
    if (S.home) params.set("home", "1");
    else if (S.channel) params.set("c", S.channel);
    if (S.thread && !S.home) params.set("t", S.thread);
    const hash = "#" + params.toString();
    if (location.hash !== hash) history.replaceState(null, "", hash);
  }

  function readHash() {
    const params = new URLSearchParams(location.hash.slice(1));
    S.user = params.get("u") || "";
    S.channel = params.get("c") || "";
    S.thread = params.get("t") || "";
    S.home = params.get("home") === "1";
  }

  function timeOf(ts) {
    const date = new Date(parseFloat(ts) * 1000);
    return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function humanSize(bytes) {
    if (bytes < 1024) return `${bytes} B`;
    if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
    return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  }

  // --- mrkdwn --------------------------------------------------------------------------------

  const EMOJI = {
    new: "🆕", white_check_mark: "✅", heavy_check_mark: "✔️", x: "❌", warning: "⚠️", no_entry: "⛔",
    no_entry_sign: "🚫", triangular_flag_on_post: "🚩", bust_in_silhouette: "👤",
    busts_in_silhouette: "👥", link: "🔗", hourglass: "⌛", hourglass_flowing_sand: "⏳",
    inbox_tray: "📥", outbox_tray: "📤", file_folder: "📁", open_file_folder: "📂", mag: "🔍",
    lock: "🔒", key: "🔑", tada: "🎉", information_source: "ℹ️", rotating_light: "🚨",
    page_facing_up: "📄", package: "📦", arrow_up: "⬆️", arrows_counterclockwise: "🔄", eyes: "👀",
    calendar: "📅", spiral_calendar_pad: "🗓️", clipboard: "📋", email: "✉️", envelope: "✉️",
    paperclip: "📎", red_circle: "🔴", large_green_circle: "🟢", large_yellow_circle: "🟡",
    white_circle: "⚪", hospital: "🏥", stethoscope: "🩺", "x-ray": "🩻", frame_with_picture: "🖼️",
    pushpin: "📌", wave: "👋", bulb: "💡", gear: "⚙️", wastebasket: "🗑️", heavy_plus_sign: "➕",
    pencil2: "✏️", memo: "📝", zap: "⚡", clock3: "🕒", ok: "🆗", satellite: "📡", electric_plug: "🔌",
    bell: "🔔", no_bell: "🔕", star: "⭐", hammer_and_wrench: "🛠️", sparkles: "✨", thinking_face: "🤔",
    raising_hand: "🙋", point_right: "👉", mailbox: "📫", label: "🏷️", bookmark: "🔖", repeat: "🔁",
    leftwards_arrow_with_hook: "↩️", heavy_minus_sign: "➖", broken_heart: "💔", hourglass_done: "⌛",
    stopwatch: "⏱️", checkered_flag: "🏁", microscope: "🔬", brain: "🧠", bone: "🦴", lungs: "🫁",
    anatomical_heart: "🫀", card_index_dividers: "🗂️", globe_with_meridians: "🌐", shield: "🛡️",
    satellite_antenna: "📡", incoming_envelope: "📨", loudspeaker: "📢", scissors: "✂️", white_flag: "🏳️",
  };

  function decodeEntities(text) {
    return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  }

  function emojify(text) {
    return text.replace(/:([a-z0-9_+'-]+):/g, (whole, name) => EMOJI[name] || whole);
  }

  function plainText(text, parent, withEmoji) {
    const decoded = decodeEntities(text);
    parent.append(document.createTextNode(withEmoji === false ? decoded : emojify(decoded)));
  }

  const EMPHASIS = /(^|[^\w*_~`])([*_~])([^\s*_~](?:[^\n]*?[^\s])?)\2(?![\w])/;
  const EMPHASIS_TAG = { "*": "strong", _: "em", "~": "s" };
  const TOKEN = /\u0000(\d+)\u0001/g;

  // Code spans and <links> are set aside first so that emphasis may surround them but never
  // reach into them (URLs are full of underscores).
  function emphasis(text, parent, tokens) {
    let rest = text;
    while (rest) {
      const match = EMPHASIS.exec(rest);
      if (!match) { withTokens(rest, parent, tokens); return; }
      withTokens(rest.slice(0, match.index) + match[1], parent, tokens);
      const strong = el(EMPHASIS_TAG[match[2]]);
      emphasis(match[3], strong, tokens);
      parent.append(strong);
      rest = rest.slice(match.index + match[0].length);
    }
  }

  function withTokens(text, parent, tokens) {
    let last = 0;
    for (const match of text.matchAll(TOKEN)) {
      if (match.index > last) plainText(text.slice(last, match.index), parent);
      const token = tokens[Number(match[1])];
      if (token.startsWith("`")) parent.append(el("code", { text: decodeEntities(token.slice(1, -1)) }));
      else angle(token.slice(1, -1), parent);
      last = match.index + match[0].length;
    }
    if (last < text.length) plainText(text.slice(last), parent);
  }

  function person(id) {
    const people = (S.data && S.data.people) || [];
    return people.find((p) => p.id === id);
  }

  function angle(token, parent) {
    const [target, label] = splitOnce(token, "|");
    if (target.startsWith("@")) {
      const who = person(target.slice(1));
      parent.append(el("span", { class: "mention", text: "@" + (label || (who ? who.real_name : target.slice(1))) }));
    } else if (target.startsWith("#")) {
      const channel = ((S.data && S.data.channels) || []).find((c) => c.id === target.slice(1));
      parent.append(el("span", { class: "mention", text: "#" + (label || (channel ? channel.name : target.slice(1))) }));
    } else if (target.startsWith("!")) {
      const special = target.slice(1).split("^")[0];
      parent.append(el("span", { class: "mention", text: label || "@" + special }));
    } else if (/^(https?:|mailto:)/i.test(target)) {
      const link = el("a", { href: decodeEntities(target), target: "_blank", rel: "noopener noreferrer" });
      if (label) emphasis(label, link, []); else plainText(target, link, false);
      parent.append(link);
    } else {
      plainText("<" + token + ">", parent);
    }
  }

  function splitOnce(text, separator) {
    const at = text.indexOf(separator);
    return at < 0 ? [text, ""] : [text.slice(0, at), text.slice(at + 1)];
  }

  function inline(text, parent) {
    const tokens = [];
    const masked = text.replace(/`[^`\n]+`|<[^<>\n]+>/g, (token) => {
      tokens.push(token);
      return `\u0000${tokens.length - 1}\u0001`;
    });
    emphasis(masked, parent, tokens);
  }

  function mrkdwn(text) {
    const root = el("div", { class: "mrkdwn" });
    const parts = String(text || "").split(/```/);
    parts.forEach((part, index) => {
      if (index % 2 === 1) {
        root.append(el("pre", { text: decodeEntities(part.replace(/^\n/, "")) }));
        return;
      }
      const lines = part.split("\n");
      let quote = null;
      lines.forEach((line, lineIndex) => {
        const quoted = /^(&gt;|>)\s?/.exec(line);
        if (quoted) {
          if (!quote) { quote = el("blockquote"); root.append(quote); } else quote.append(el("br"));
          inline(line.slice(quoted[0].length), quote);
          return;
        }
        quote = null;
        inline(line, root);
        if (lineIndex < lines.length - 1) root.append(el("br"));
      });
    });
    return root;
  }

  function textObject(object, className) {
    if (!object) return el("span");
    if (object.type === "mrkdwn") {
      const node = mrkdwn(object.text);
      if (className) node.classList.add(className);
      return node;
    }
    const node = el("span", { class: className || "" });
    plainText(object.text || "", node, object.emoji !== false);
    return node;
  }

  const plain = (object) => (object ? (object.emoji === false ? object.text : emojify(object.text || "")) : "");

  // --- Block Kit ----------------------------------------------------------------------------

  // A rendering context: where the blocks live (a message or a view) and the DOM that holds them.
  // ctx = { surface: "message" | "modal" | "home", source: {...}, root: Element, preserved: Map }

  function renderBlocks(blocks, ctx) {
    const holder = el("div", { class: "blocks" });
    for (const block of blocks || []) {
      const node = renderBlock(block, ctx);
      if (node) holder.append(node);
    }
    return holder;
  }

  function renderBlock(block, ctx) {
    switch (block.type) {
      case "header":
        return el("div", { class: "bk-header" }, el("h3", { text: plain(block.text) }));
      case "divider":
        return el("hr", { class: "bk-divider" });
      case "section":
        return sectionBlock(block, ctx);
      case "context":
        return el("div", { class: "bk-context" }, (block.elements || []).map((item) =>
          item.type === "image" ? imageNode(item, "bk-context-image") : textObject(item)));
      case "actions":
        return el("div", { class: "bk-actions", "data-block-id": block.block_id },
          (block.elements || []).map((element) => renderElement(element, block, ctx, true)));
      case "image":
        return el("figure", { class: "bk-image" },
          block.title ? el("figcaption", { text: plain(block.title) }) : null, imageNode(block));
      case "input":
        return inputBlock(block, ctx);
      case "markdown":
        return el("div", { class: "bk-section" }, mrkdwn(block.text));
      case "rich_text":
        return el("div", { class: "bk-section" }, richText(block));
      default:
        return el("div", { class: "bk-unknown", text: `[${block.type} block]` });
    }
  }

  function sectionBlock(block, ctx) {
    const main = el("div", { class: "bk-section-main" });
    if (block.text) main.append(textObject(block.text, "bk-section-text"));
    if (block.fields && block.fields.length) {
      main.append(el("div", { class: "bk-fields" }, block.fields.map((field) => textObject(field, "bk-field"))));
    }
    const node = el("div", { class: "bk-section", "data-block-id": block.block_id }, main);
    if (block.accessory) {
      const accessory = block.accessory.type === "image"
        ? imageNode(block.accessory, "bk-accessory-image")
        : renderElement(block.accessory, block, ctx, true);
      node.append(el("div", { class: "bk-accessory" }, accessory));
    }
    return node;
  }

  function richText(block) {
    const holder = el("div", { class: "mrkdwn" });
    const walk = (items, parent) => {
      for (const item of items || []) {
        if (item.type === "text") {
          const style = item.style || {};
          let node = document.createTextNode(item.text);
          for (const [flag, tag] of [["bold", "strong"], ["italic", "em"], ["strike", "s"], ["code", "code"]]) {
            if (style[flag]) { const wrap = el(tag); wrap.append(node); node = wrap; }
          }
          parent.append(node);
        } else if (item.type === "link") {
          parent.append(el("a", { href: item.url, target: "_blank", rel: "noopener noreferrer", text: item.text || item.url }));
        } else if (item.type === "user") {
          const who = person(item.user_id);
          parent.append(el("span", { class: "mention", text: "@" + (who ? who.real_name : item.user_id) }));
        } else if (item.type === "emoji") {
          parent.append(EMOJI[item.name] || `:${item.name}:`);
        } else if (item.elements) {
          const tag = item.type === "rich_text_preformatted" ? "pre" : item.type === "rich_text_quote" ? "blockquote" : "div";
          const child = el(tag);
          walk(item.elements, child);
          parent.append(child);
        }
      }
    };
    walk(block.elements, holder);
    return holder;
  }

  function isLocalUrl(url) {
    try {
      const parsed = new URL(url, location.href);
      return parsed.protocol === "data:" || ["127.0.0.1", "localhost", "[::1]", location.hostname].includes(parsed.hostname);
    } catch (_) {
      return false;
    }
  }

  function imageNode(image, className) {
    const url = image.image_url || (image.slack_file && image.slack_file.url) || "";
    // The sandbox stays on this machine: images from elsewhere are named, not fetched.
    if (isLocalUrl(url)) return el("img", { class: className || "bk-img", src: url, alt: image.alt_text || "" });
    return el("span", { class: (className || "bk-img") + " image-placeholder", title: url, text: "🖼 " + (image.alt_text || "image") });
  }

  function inputBlock(block, ctx) {
    const element = block.element || {};
    const label = el("label", { class: "bk-input-label" }, plain(block.label),
      block.optional ? el("span", { class: "optional", text: " (optional)" }) : null);
    const node = el("div", {
      class: "bk-input", "data-block-id": block.block_id, "data-optional": block.optional ? "1" : "0",
    }, label, renderElement(element, block, ctx, Boolean(block.dispatch_action)));
    if (block.hint) node.append(el("div", { class: "bk-hint", text: plain(block.hint) }));
    node.append(el("div", { class: "bk-error", hidden: true }));
    return node;
  }

  // Each stateful element's root carries data-action-id and a _state() reporting its value the
  // way Slack puts it in state.values; _empty() tells whether a required input is unfilled.
  function stateful(node, block, element, read) {
    node.dataset.blockId = block.block_id;
    node.dataset.actionId = element.action_id;
    node.dataset.type = element.type;
    node._state = () => Object.assign({ type: element.type }, read());
    return node;
  }

  function preserved(ctx, block, element) {
    return ctx.preserved ? ctx.preserved.get(`${block.block_id}/${element.action_id}`) : undefined;
  }

  async function dispatch(ctx, block, element, selection, trigger) {
    if (element.confirm && !(await confirmDialog(element.confirm))) return;
    S.follow = true;
    if (trigger) trigger.disabled = true;
    try {
      await post("/console/api/action", {
        user: S.user,
        source: ctx.source,
        block_id: block.block_id,
        action_id: element.action_id,
        selection,
        state: collectState(ctx.root),
      });
    } catch (error) {
      toast(error.message);
    } finally {
      if (trigger) setTimeout(() => { trigger.disabled = false; }, 400);
    }
  }

  function optionsOf(element) {
    const options = [...(element.options || [])];
    for (const group of element.option_groups || []) options.push(...(group.options || []));
    return options;
  }

  function fillSelect(select, element, chosenValues) {
    const add = (parent, option) => {
      const node = el("option", { value: option.value, text: plain(option.text) });
      if (chosenValues.includes(option.value)) node.selected = true;
      parent.append(node);
    };
    (element.options || []).forEach((option) => add(select, option));
    for (const group of element.option_groups || []) {
      const holder = el("optgroup", { label: plain(group.label) });
      (group.options || []).forEach((option) => add(holder, option));
      select.append(holder);
    }
  }

  function renderElement(element, block, ctx, dispatches) {
    const kept = preserved(ctx, block, element);
    switch (element.type) {
      case "button": {
        const button = el("button", {
          type: "button",
          class: "bk-button" + (element.style ? " " + element.style : ""),
          "data-action-id": element.action_id,
          "data-block-id": block.block_id,
          text: plain(element.text),
        });
        button.addEventListener("click", () => {
          if (element.url) window.open(element.url, "_blank", "noopener");
          dispatch(ctx, block, element, {}, button);
        });
        return button;
      }
      case "overflow":
        return overflowMenu(element, block, ctx);
      case "static_select":
      case "multi_static_select":
      case "users_select":
      case "multi_users_select":
      case "conversations_select":
      case "multi_conversations_select":
      case "channels_select":
      case "multi_channels_select":
        return selectMenu(element, block, ctx, dispatches, kept);
      case "external_select":
      case "multi_external_select":
        return externalSelect(element, block, ctx, dispatches, kept);
      case "datepicker":
      case "timepicker": {
        const isDate = element.type === "datepicker";
        const field = isDate ? "selected_date" : "selected_time";
        const input = el("input", { type: isDate ? "date" : "time", class: "bk-picker", "aria-label": plain(element.placeholder) || field });
        input.value = (kept && kept[field]) || element[isDate ? "initial_date" : "initial_time"] || "";
        stateful(input, block, element, () => ({ [field]: input.value || null }));
        input._empty = () => !input.value;
        if (dispatches) input.addEventListener("change", () => dispatch(ctx, block, element, { [field]: input.value || null }));
        return input;
      }
      case "checkboxes":
      case "radio_buttons":
        return choiceList(element, block, ctx, dispatches, kept);
      case "plain_text_input":
      case "email_text_input":
      case "url_text_input":
      case "number_input":
      case "rich_text_input":
        return textInput(element, block, ctx, dispatches, kept);
      case "image":
        return imageNode(element);
      default:
        return el("span", { class: "bk-unknown", text: `[${element.type}]` });
    }
  }

  function overflowMenu(element, block, ctx) {
    const menu = el("div", { class: "overflow-menu", role: "menu", hidden: true });
    const toggle = el("button", {
      type: "button", class: "bk-overflow", "aria-label": "More actions", "aria-haspopup": "menu",
      "data-action-id": element.action_id, "data-block-id": block.block_id, text: "⋯",
    });
    for (const option of element.options || []) {
      const item = el("button", { type: "button", role: "menuitem", class: "overflow-item", text: plain(option.text) });
      item.addEventListener("click", () => {
        menu.hidden = true;
        if (option.url) window.open(option.url, "_blank", "noopener");
        dispatch(ctx, block, element, { selected_option: option });
      });
      menu.append(item);
    }
    toggle.addEventListener("click", (event) => {
      event.stopPropagation();
      document.querySelectorAll(".overflow-menu").forEach((other) => { if (other !== menu) other.hidden = true; });
      menu.hidden = !menu.hidden;
    });
    return el("div", { class: "overflow-holder" }, toggle, menu);
  }

  function pickerChoices(element) {
    const kind = element.type.replace("multi_", "");
    if (kind === "users_select") {
      return (S.data.people || []).map((p) => ({ text: { type: "plain_text", text: p.real_name }, value: p.id }));
    }
    const channels = (S.data.channels || []).filter((c) => kind === "conversations_select" || !c.is_im);
    return channels.map((c) => ({ text: { type: "plain_text", text: (c.is_im ? "" : "#") + c.name }, value: c.id }));
  }

  const PICKER_FIELDS = {
    users_select: ["selected_user", "initial_user"],
    conversations_select: ["selected_conversation", "initial_conversation"],
    channels_select: ["selected_channel", "initial_channel"],
  };

  function selectMenu(element, block, ctx, dispatches, kept) {
    const multi = element.type.startsWith("multi_");
    const kind = element.type.replace("multi_", "");
    const picker = PICKER_FIELDS[kind];
    const source = picker ? Object.assign({}, element, { options: pickerChoices(element) }) : element;
    const select = el("select", { class: "bk-select", multiple: multi, "aria-label": plain(element.placeholder) || "Choose" });
    let chosen = [];
    if (picker) {
      const [field, initial] = picker;
      const keptValue = kept && (multi ? kept[field + "s"] : kept[field]);
      const initialValue = multi ? element[initial + "s"] : element[initial];
      chosen = [].concat(keptValue || initialValue || []);
    } else if (multi) {
      chosen = ((kept && kept.selected_options) || element.initial_options || []).map((o) => o.value);
    } else {
      const option = (kept && kept.selected_option) || element.initial_option;
      chosen = option ? [option.value] : [];
    }
    if (!multi) {
      const placeholder = el("option", { value: "", text: plain(element.placeholder) || "Choose an option", disabled: true });
      if (!chosen.length) placeholder.selected = true;
      select.append(placeholder);
    }
    fillSelect(select, source, chosen);
    const options = optionsOf(source);
    const read = () => {
      const values = [...select.selectedOptions].map((o) => o.value).filter(Boolean);
      if (picker) {
        const field = picker[0];
        return multi ? { [field + "s"]: values } : { [field]: values[0] || null };
      }
      const picked = values.map((value) => options.find((o) => o.value === value)).filter(Boolean);
      return multi ? { selected_options: picked } : { selected_option: picked[0] || null };
    };
    stateful(select, block, element, read);
    select._empty = () => ![...select.selectedOptions].some((o) => o.value);
    if (dispatches) select.addEventListener("change", () => dispatch(ctx, block, element, read()));
    return select;
  }

  function externalSelect(element, block, ctx, dispatches, kept) {
    const multi = element.type === "multi_external_select";
    let chosen = multi
      ? [...((kept && kept.selected_options) || element.initial_options || [])]
      : [(kept && kept.selected_option) || element.initial_option].filter(Boolean);
    const input = el("input", {
      type: "text", class: "bk-external-input", role: "combobox", "aria-autocomplete": "list",
      placeholder: plain(element.placeholder) || "Type to search", "aria-label": plain(element.placeholder) || "Search",
    });
    const list = el("ul", { class: "suggestions", role: "listbox", hidden: true });
    const tags = el("div", { class: "chosen-tags" });
    const holder = el("div", { class: "bk-external" }, tags, input, list);
    const minimum = element.min_query_length === undefined ? 3 : element.min_query_length;
    const show = () => {
      tags.replaceChildren();
      if (multi) {
        chosen.forEach((option, index) => tags.append(el("span", { class: "tag" }, plain(option.text),
          el("button", { type: "button", "aria-label": "Remove", text: "×", onclick: () => { chosen.splice(index, 1); show(); changed(); } }))));
      } else {
        input.value = chosen[0] ? plain(chosen[0].text) : "";
      }
    };
    const read = () => (multi ? { selected_options: chosen } : { selected_option: chosen[0] || null });
    const changed = () => { if (dispatches) dispatch(ctx, block, element, read()); };
    stateful(holder, block, element, read);
    holder._empty = () => chosen.length === 0;
    let timer = null;
    let asked = 0;
    const ask = async () => {
      const query = input.value;
      if (query.length < minimum) { list.hidden = true; return; }
      const mine = ++asked;
      let answer;
      try {
        answer = await post("/console/api/suggest", { user: S.user, source: ctx.source, action_id: element.action_id, value: query });
      } catch (error) {
        toast(error.message);
        return;
      }
      if (mine !== asked) return;
      list.replaceChildren();
      const add = (option) => {
        const item = el("li", { role: "option", class: "suggestion", text: plain(option.text) });
        item.addEventListener("mousedown", (event) => {
          event.preventDefault();
          if (multi) { chosen.push(option); input.value = ""; } else chosen = [option];
          list.hidden = true;
          show();
          changed();
        });
        list.append(item);
      };
      (answer.options || []).forEach(add);
      for (const group of answer.option_groups || []) {
        list.append(el("li", { class: "suggestion-group", text: plain(group.label) }));
        (group.options || []).forEach(add);
      }
      if (!list.children.length) list.append(el("li", { class: "suggestion-empty", text: "No matches" }));
      list.hidden = false;
    };
    input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(ask, 250); });
    input.addEventListener("focus", () => { if (minimum === 0) ask(); });
    input.addEventListener("blur", () => { setTimeout(() => { list.hidden = true; if (!multi) show(); }, 150); });
    show();
    return holder;
  }

  function choiceList(element, block, ctx, dispatches, kept) {
    const multi = element.type === "checkboxes";
    const name = `${block.block_id}-${element.action_id}-${Math.random().toString(36).slice(2, 7)}`;
    const initial = multi
      ? ((kept && kept.selected_options) || element.initial_options || []).map((o) => o.value)
      : [((kept && kept.selected_option) || element.initial_option || {}).value];
    const holder = el("div", { class: "bk-choices", role: multi ? "group" : "radiogroup" });
    const boxes = [];
    for (const option of element.options || []) {
      const box = el("input", { type: multi ? "checkbox" : "radio", name, value: option.value });
      box.checked = initial.includes(option.value);
      boxes.push([box, option]);
      holder.append(el("label", { class: "bk-choice" }, box, textObject(option.text),
        option.description ? el("span", { class: "bk-choice-description" }, textObject(option.description)) : null));
    }
    const read = () => {
      const picked = boxes.filter(([box]) => box.checked).map(([, option]) => option);
      return multi ? { selected_options: picked } : { selected_option: picked[0] || null };
    };
    stateful(holder, block, element, read);
    holder._empty = () => !boxes.some(([box]) => box.checked);
    if (dispatches) holder.addEventListener("change", () => dispatch(ctx, block, element, read()));
    return holder;
  }

  function textInput(element, block, ctx, dispatches, kept) {
    const multiline = element.multiline || element.type === "rich_text_input";
    const types = { email_text_input: "email", url_text_input: "url", number_input: "number" };
    const input = multiline
      ? el("textarea", { class: "bk-text", rows: 4 })
      : el("input", { class: "bk-text", type: types[element.type] || "text" });
    if (element.placeholder) input.placeholder = plain(element.placeholder);
    if (element.max_length) input.maxLength = element.max_length;
    if (element.type === "number_input" && element.is_decimal_allowed) input.step = "any";
    input.value = kept && typeof kept.value === "string" ? kept.value : element.initial_value || "";
    stateful(input, block, element, () => ({ value: input.value === "" ? null : input.value }));
    input._empty = () => input.value.trim() === "";
    if (dispatches) {
      input.addEventListener("keydown", (event) => {
        if (event.key === "Enter" && !multiline) {
          event.preventDefault();
          dispatch(ctx, block, element, { value: input.value });
        }
      });
    }
    return input;
  }

  function collectState(root) {
    const values = {};
    if (!root) return values;
    for (const node of root.querySelectorAll("[data-action-id]")) {
      if (typeof node._state !== "function") continue;
      const { blockId, actionId } = node.dataset;
      (values[blockId] = values[blockId] || {})[actionId] = node._state();
    }
    return values;
  }

  function confirmDialog(confirm) {
    return new Promise((resolve) => {
      const done = (answer) => { backdrop.remove(); resolve(answer); };
      const dialog = el("div", { class: "modal confirm", role: "alertdialog", "aria-modal": "true" },
        el("header", {}, el("h2", { text: plain(confirm.title) || "Are you sure?" })),
        el("div", { class: "modal-body" }, textObject(confirm.text)),
        el("footer", {},
          el("button", { type: "button", class: "btn secondary", text: plain(confirm.deny) || "Cancel", onclick: () => done(false) }),
          el("button", { type: "button", class: "btn " + (confirm.style === "danger" ? "danger" : "primary"), text: plain(confirm.confirm) || "Yes", onclick: () => done(true) })));
      const backdrop = el("div", { class: "modal-backdrop confirm-backdrop" }, dialog);
      document.body.append(backdrop);
    });
  }

  // --- messages ------------------------------------------------------------------------------

  function fileIcon(file) {
    const name = file.name.toLowerCase();
    if (file.filetype === "zip") return "📦";
    if (file.filetype === "pdf") return "📄";
    if (file.mimetype.startsWith("image/")) return "🖼";
    if (name.endsWith(".dcm") || file.mimetype === "application/dicom" || file.filetype === "binary") return "🩻";
    return "📎";
  }

  function fileCard(file) {
    return el("a", { class: "file-card", href: file.url, download: file.name },
      el("span", { class: "file-icon", text: fileIcon(file) }),
      el("span", { class: "file-text" },
        el("span", { class: "file-name", text: file.title || file.name }),
        el("span", { class: "file-meta", text: `${file.filetype === "binary" ? "Binary" : file.filetype.toUpperCase()} · ${humanSize(file.size)}` })));
  }

  function avatar(author) {
    const initial = (author.name || "?").trim().charAt(0).toUpperCase();
    return el("div", { class: "avatar" + (author.is_bot ? " bot" : ""), "aria-hidden": "true", text: initial });
  }

  function renderMessage(message, channelId, inThread) {
    const source = { channel: channelId, ts: message.ts, ephemeral: message.ephemeral };
    const node = el("article", {
      class: "message" + (message.ephemeral ? " ephemeral" : "") + (message.author.is_bot ? " from-bot" : ""),
      "data-ts": message.ts, "data-key": message.key,
    });
    const body = el("div", { class: "message-body" });
    const meta = el("div", { class: "meta" },
      el("span", { class: "author", text: message.author.name }),
      message.author.is_bot && message.author.id !== "USLACKBOT" ? el("span", { class: "app-badge", text: "APP" }) : null,
      el("time", { text: timeOf(message.ts), title: message.ts }),
      message.edited ? el("span", { class: "edited", text: "(edited)" }) : null);
    body.append(meta);
    if (message.ephemeral) {
      body.append(el("div", { class: "ephemeral-note" }, "👁 Only visible to you · ",
        el("button", { type: "button", class: "link-button dismiss", text: "Dismiss", onclick: () => dismiss(channelId, message.ts) })));
    }
    const ctx = { surface: "message", source, root: body };
    if (message.blocks && message.blocks.length) body.append(renderBlocks(message.blocks, ctx));
    else if (message.text) body.append(mrkdwn(message.text));
    if (message.files && message.files.length) body.append(el("div", { class: "files" }, message.files.map(fileCard)));
    if (!inThread && !message.ephemeral) {
      if (message.reply_count) {
        body.append(el("button", {
          type: "button", class: "link-button replies",
          text: `${message.reply_count} ${message.reply_count === 1 ? "reply" : "replies"}`,
          onclick: () => openThread(message.ts),
        }));
      }
      node.append(el("div", { class: "hover-actions" },
        el("button", { type: "button", class: "icon-button", title: "Reply in thread", "aria-label": "Reply in thread", text: "💬", onclick: () => openThread(message.ts) })));
    }
    node.prepend(avatar(message.author));
    node.append(body);
    return node;
  }

  function syncList(container, nodes, messages, channelId, inThread) {
    const nearBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 80;
    const seen = new Set();
    let previous = null;
    let added = false;
    for (const message of messages) {
      const signature = JSON.stringify(message);
      let entry = nodes.get(message.key);
      if (!entry) added = true;
      if (!entry || entry.signature !== signature) {
        const node = renderMessage(message, channelId, inThread);
        if (entry) entry.node.replaceWith(node);
        entry = { node, signature };
        nodes.set(message.key, entry);
      }
      seen.add(message.key);
      const expected = previous ? previous.nextSibling : container.firstChild;
      if (expected !== entry.node) container.insertBefore(entry.node, expected);
      previous = entry.node;
    }
    for (const [key, entry] of nodes) {
      if (!seen.has(key)) { entry.node.remove(); nodes.delete(key); }
    }
    if (!messages.length && !container.querySelector(".empty")) {
      container.append(el("div", { class: "empty", text: inThread ? "No replies yet." : "No messages yet. Type /pacs help to start." }));
    } else if (messages.length) {
      container.querySelectorAll(".empty").forEach((node) => node.remove());
    }
    // Like Slack: stay at the newest message, and jump to it when the person's own doing added one.
    if (nearBottom || container._fresh || (added && S.follow)) {
      container.scrollTop = container.scrollHeight;
      container._fresh = false;
      if (added) S.follow = false;
    }
  }

  function resetList(container, nodes) {
    container.replaceChildren();
    nodes.clear();
    container._fresh = true;
  }

  // --- rendering the whole page ----------------------------------------------------------------

  function render(data) {
    const previousChannel = S.data && S.data.channel && S.data.channel.id;
    const previousUser = S.data && S.data.me.id;
    S.data = data;
    S.user = data.me.id;
    S.channel = data.channel ? data.channel.id : S.channel;
    if (!data.thread) S.thread = "";
    writeHash();

    $("team-name").textContent = data.team.name;
    const switcher = $("user-switcher");
    switcher.replaceChildren(...data.people.map((p) =>
      el("option", { value: p.id, text: `${p.real_name} (${p.role})`, selected: p.id === data.me.id })));

    const channelItem = (c) => el("li", {}, el("a", {
      href: "#", class: "nav-item" + (!S.home && data.channel && c.id === data.channel.id ? " active" : ""),
      "data-channel": c.id,
      onclick: (event) => { event.preventDefault(); selectChannel(c.id); },
    }, el("span", { class: "nav-icon", text: c.is_im ? "●" : c.is_private ? "🔒" : "#" }), c.name,
    c.is_ext_shared ? el("span", { class: "connect-badge", title: "Slack Connect", text: "⇄" }) : null));
    $("channel-list").replaceChildren(...data.channels.filter((c) => !c.is_im).map(channelItem));
    const dms = data.channels.filter((c) => c.is_im);
    $("dm-list").replaceChildren(...dms.map(channelItem));
    $("dm-title").hidden = !dms.length;
    $("home-link").classList.toggle("active", S.home);

    const channel = data.channel;
    $("messages").hidden = S.home;
    $("composer").hidden = S.home || !channel;
    $("home").hidden = !S.home;
    if (S.home) {
      $("channel-title").textContent = "pacsbot";
      $("channel-meta").textContent = "Home";
      renderHome(data.home);
    } else if (channel) {
      $("channel-title").textContent = (channel.is_im ? "" : channel.is_private ? "🔒 " : "# ") + channel.name;
      $("channel-meta").textContent = `${channel.member_count} members` + (channel.is_ext_shared ? " · Slack Connect" : "");
      $("composer-input").placeholder = `Message ${channel.is_im ? "" : "#"}${channel.name}`;
      if (previousChannel !== channel.id || previousUser !== data.me.id) resetList($("messages"), S.messageNodes);
      syncList($("messages"), S.messageNodes, data.messages, channel.id, false);
    }

    const pane = $("thread-pane");
    if (data.thread && channel) {
      if (pane.hidden || pane.dataset.ts !== data.thread.ts) resetList($("thread-messages"), S.threadNodes);
      pane.hidden = false;
      pane.dataset.ts = data.thread.ts;
      $("thread-channel").textContent = "#" + channel.name;
      syncList($("thread-messages"), S.threadNodes, [data.thread.parent, ...data.thread.replies], channel.id, true);
    } else {
      pane.hidden = true;
      delete pane.dataset.ts;
    }
    renderModal(data.modal, data.modal_depth);
  }

  function renderHome(view) {
    const holder = $("home");
    const key = view ? `${view.id}:${view.hash}` : "";
    if (key === S.homeKey && holder.childElementCount) return;
    S.homeKey = key;
    if (!view) {
      holder.replaceChildren(el("div", { class: "empty", text: "Opening pacsbot's Home tab…" }));
      return;
    }
    const ctx = { surface: "home", source: { view_id: view.id }, root: holder };
    holder.replaceChildren(renderBlocks(view.blocks, ctx));
  }

  function renderModal(view, depth) {
    const rootNode = $("modal-root");
    if (!view) {
      S.modalKey = "";
      rootNode.replaceChildren();
      return;
    }
    const key = `${view.id}:${view.hash}`;
    const existing = rootNode.querySelector(".modal");
    if (key === S.modalKey && existing) {
      showErrors(existing, view.errors);
      return;
    }
    // A view updated in place keeps what the person typed where block and action ids still match.
    const kept = new Map();
    if (existing && existing.dataset.viewId === view.id) {
      const values = collectState(existing);
      for (const [blockId, actions] of Object.entries(values)) {
        for (const [actionId, state] of Object.entries(actions)) kept.set(`${blockId}/${actionId}`, state);
      }
    }
    S.modalKey = key;
    const body = el("div", { class: "modal-body" });
    const dialog = el("form", {
      class: "modal", role: "dialog", "aria-modal": "true", "aria-labelledby": "modal-title",
      "data-view-id": view.id, "data-callback-id": view.callback_id || "", novalidate: true,
    });
    const ctx = { surface: "modal", source: { view_id: view.id }, root: dialog, preserved: kept };
    body.append(renderBlocks(view.blocks, ctx));
    const problem = el("div", { class: "modal-problem", hidden: true });
    const closeText = plain(view.close) || (view.submit ? "Cancel" : "Close");
    const footer = el("footer", {},
      el("button", { type: "button", class: "btn secondary", text: closeText, onclick: () => closeModal(view.id) }),
      view.submit ? el("button", { type: "submit", class: "btn primary", text: plain(view.submit) }) : null);
    dialog.append(
      el("header", {},
        depth > 1 ? el("span", { class: "modal-depth", text: "‹" }) : null,
        el("h2", { id: "modal-title", text: plain(view.title) }),
        el("button", { type: "button", class: "icon-button", "aria-label": "Close", text: "×", onclick: () => closeModal(view.id) })),
      body, problem, footer);
    dialog.addEventListener("submit", (event) => { event.preventDefault(); submitModal(dialog, view); });
    rootNode.replaceChildren(el("div", { class: "modal-backdrop" }, dialog));
    showErrors(dialog, view.errors);
    const first = dialog.querySelector(".modal-body input, .modal-body textarea, .modal-body select");
    if (first && !existing) first.focus();
  }

  function showErrors(dialog, errors) {
    for (const block of dialog.querySelectorAll(".bk-input")) {
      const message = (errors || {})[block.dataset.blockId];
      const box = block.querySelector(".bk-error");
      box.textContent = message || "";
      box.hidden = !message;
      block.classList.toggle("invalid", Boolean(message));
    }
  }

  async function submitModal(dialog, view) {
    const missing = {};
    for (const block of dialog.querySelectorAll(".bk-input")) {
      const node = block.querySelector("[data-action-id]");
      if (block.dataset.optional !== "1" && node && node._empty && node._empty()) {
        missing[block.dataset.blockId] = "Please complete this required field.";
      }
    }
    showErrors(dialog, missing);
    if (Object.keys(missing).length) return;
    const values = collectState(dialog);
    const button = dialog.querySelector("button[type=submit]");
    const problem = dialog.querySelector(".modal-problem");
    if (button) button.disabled = true;
    try {
      const answer = await post("/console/api/submit", { user: S.user, view_id: view.id, values });
      problem.hidden = !answer.error;
      problem.textContent = answer.error || "";
    } catch (error) {
      problem.hidden = false;
      problem.textContent = error.message;
    } finally {
      if (button) button.disabled = false;
    }
  }

  async function closeModal(viewId) {
    try {
      await post("/console/api/close", { user: S.user, view_id: viewId });
    } catch (error) {
      toast(error.message);
    }
    refresh();
  }

  async function dismiss(channelId, ts) {
    try {
      await post("/console/api/dismiss", { user: S.user, channel: channelId, ts });
    } catch (error) {
      toast(error.message);
    }
    refresh();
  }

  // --- navigation and composing ------------------------------------------------------------------

  function selectChannel(channelId) {
    S.home = false;
    S.channel = channelId;
    S.thread = "";
    refresh();
  }

  function openThread(ts) {
    S.thread = ts;
    refresh();
  }

  async function openHome() {
    S.home = true;
    S.thread = "";
    S.homeKey = "";
    refresh();
    try {
      await post("/console/api/home", { user: S.user });
    } catch (error) {
      toast(error.message);
    }
  }

  async function send(text, threadTs, status) {
    S.follow = true;
    const command = text.startsWith("/");
    if (status && command) status.textContent = `Sending ${text.split(" ")[0]}…`;
    try {
      await post("/console/api/message", { user: S.user, channel: S.channel, text, thread_ts: threadTs || null });
    } catch (error) {
      toast(error.message);
    } finally {
      if (status && command) status.textContent = "";
    }
  }

  function wireComposer(form, input, threadOf) {
    const status = form.querySelector(".composer-status");
    const hintText = status ? status.innerHTML : "";
    const submit = () => {
      const text = input.value.trim();
      if (!text) return;
      input.value = "";
      autosize(input);
      if (form.id === "composer") $("command-hint").hidden = true;
      send(text, threadOf(), status).finally(() => { if (status && !status.textContent) status.innerHTML = hintText; });
    };
    form.addEventListener("submit", (event) => { event.preventDefault(); submit(); });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); submit(); }
    });
    input.addEventListener("input", () => {
      autosize(input);
      if (form.id === "composer") $("command-hint").hidden = !input.value.startsWith("/");
    });
  }

  function autosize(input) {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 180) + "px";
  }

  async function upload(files, threadTs) {
    if (!files.length || !S.channel || S.home) return;
    S.follow = true;
    const form = new FormData();
    form.append("user", S.user);
    form.append("channel", S.channel);
    if (threadTs) form.append("thread_ts", threadTs);
    for (const file of files) form.append("file", file, file.name);
    toast(`Uploading ${files.length} file${files.length === 1 ? "" : "s"}…`, "info");
    try {
      const response = await fetch("/console/api/upload", { method: "POST", body: form });
      const answer = await response.json().catch(() => ({}));
      if (!response.ok) throw new Error(answer.error || `HTTP ${response.status}`);
      $("toast").hidden = true;
    } catch (error) {
      toast(error.message);
    }
  }

  function wireDrops() {
    const overlay = $("drop-overlay");
    let depth = 0;
    let target = null;
    const hasFiles = (event) => [...(event.dataTransfer ? event.dataTransfer.types : [])].includes("Files");
    const where = (event) => {
      const pane = $("thread-pane");
      return !pane.hidden && pane.contains(event.target) ? pane.dataset.ts : null;
    };
    window.addEventListener("dragenter", (event) => {
      if (!hasFiles(event) || S.home) return;
      event.preventDefault();
      depth += 1;
      target = where(event);
      const channel = S.data && S.data.channel;
      $("drop-target").textContent = target ? "this thread" : channel ? `#${channel.name}` : "this channel";
      overlay.hidden = false;
    });
    window.addEventListener("dragover", (event) => { if (hasFiles(event)) event.preventDefault(); });
    window.addEventListener("dragleave", () => { depth = Math.max(0, depth - 1); if (!depth) overlay.hidden = true; });
    window.addEventListener("drop", (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      depth = 0;
      overlay.hidden = true;
      upload([...event.dataTransfer.files], target);
    });
  }

  // --- the feed ----------------------------------------------------------------------------------

  async function pollForever() {
    for (;;) {
      const controller = new AbortController();
      S.poll = controller;
      const params = new URLSearchParams({
        user: S.user, channel: S.channel, thread: S.thread, home: S.home ? "1" : "", since: S.version,
      });
      try {
        const response = await fetch("/console/api/feed?" + params, { cache: "no-store", signal: controller.signal });
        if (!response.ok) { await sleep(1000); continue; }
        const data = await response.json();
        if (controller.signal.aborted) continue;
        S.version = data.version;
        render(data);
      } catch (error) {
        if (!controller.signal.aborted) await sleep(1000);
      }
    }
  }

  function start() {
    readHash();
    $("user-switcher").addEventListener("change", (event) => {
      S.user = event.target.value;
      S.thread = "";
      if (S.home) S.homeKey = "";
      refresh();
      if (S.home) post("/console/api/home", { user: S.user }).catch((error) => toast(error.message));
    });
    $("home-link").addEventListener("click", (event) => { event.preventDefault(); openHome(); });
    $("thread-close").addEventListener("click", () => { S.thread = ""; refresh(); });
    wireComposer($("composer"), $("composer-input"), () => null);
    wireComposer($("thread-composer"), $("thread-input"), () => S.thread);
    $("file-input").addEventListener("change", (event) => { upload([...event.target.files], null); event.target.value = ""; });
    $("thread-file-input").addEventListener("change", (event) => { upload([...event.target.files], S.thread); event.target.value = ""; });
    document.addEventListener("click", () => document.querySelectorAll(".overflow-menu").forEach((menu) => { menu.hidden = true; }));
    document.addEventListener("keydown", (event) => {
      if (event.key !== "Escape") return;
      const modal = document.querySelector("#modal-root .modal");
      if (modal) closeModal(modal.dataset.viewId);
    });
    wireDrops();
    if (S.home) post("/console/api/home", { user: S.user }).catch(() => {});
    pollForever();
  }

  start();
})();
