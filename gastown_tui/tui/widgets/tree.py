"""The town tree: mayor, deacon, each rig with witness, refinery (queue), crew and polecats.

Nodes are keyed (agent address, `rig:<name>`, `group:<rig>:<role>`) and updated in place, so
the cursor and every expansion survive each refresh. Each agent's row carries its facts (time
in state, commits ahead / dirty files, context %, cost) where the tree is wide enough; `o` sorts
the workers of each group by state, the ones needing attention first.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from rich.cells import cell_len

from gastown_tui.tui.style import age_changes_at, fact_bits, glyph, state_style, var
from gastown_tui.work.snapshot import AgentView, TownSnapshot, state_rank


class TownTree(Tree[str]):
    BINDINGS = [
        Binding("enter", "app.attach", "attach"),
        Binding("space", "toggle_node", "expand", show=False),
        Binding("d", "app.agent_detail", "detail"),
        Binding("p", "app.peek", "peek"),
        Binding("o", "sort_by_state", "sort workers by state / by name", show=False),
    ]

    @dataclass
    class AgentSelected(Message):
        address: str | None

    class SortChanged(Message):
        """The tree's order changed (the app retitles the pane)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__("town", *args, **kwargs)
        self.show_root = False
        self.guide_depth = 2
        self._keyed: dict[str, TreeNode[str]] = {}
        self._agents: dict[str, AgentView] = {}
        self.filter_text = ""
        self.sort_by = "name"  # or "state"
        self._next_tick = float("inf")
        self._snap: TownSnapshot | None = None

    @property
    def selected_address(self) -> str | None:
        node = self.cursor_node
        if node is None or node.data is None:
            return None
        return node.data if node.data in self._agents else None

    def agent(self, address: str) -> AgentView | None:
        return self._agents.get(address)

    def _label(self, a: AgentView, depth: int = 1, extra: list[tuple[str, Style]] | None = None) -> Text:
        """One agent's row: state, name, hook and mail on the left; its facts (fact_bits) on the
        right where the tree is wide enough, the hook's title cut to make room, facts dropped
        from the least important one when even that is not enough."""
        left: list[tuple[str, Style]] = [(glyph(a.state), state_style(self.app, a.state)), (a.label, Style())]
        if a.state in ("waiting", "stalled", "dead"):
            left.append((a.state, state_style(self.app, a.state)))
        if a.hook_id:
            left.append((a.hook_id, Style(color=var(self.app, "hook"))))
        tail: list[tuple[str, Style]] = []
        if a.unread:
            tail.append((f"✉{a.unread}", Style(color=var(self.app, "mail-unread"), bold=True)))
        tail.extend(extra or ())
        facts = fact_bits(self.app, a, self.app.clock())
        title = a.hook_title if a.hook_id else ""

        def width(bits) -> int:
            return sum(cell_len(s) + 1 for s, _st in bits)

        room = self.row_width(depth)
        if room:
            while facts and width(left) + width(tail) + width(facts) > room:
                facts.pop()  # least important first
        t = Text()
        for i, (s, st) in enumerate(left + ([(title, Style(color=var(self.app, "muted")))] if title else []) + tail):
            if i:
                t.append(" ")
            t.append(s, st)
        if not room:
            for s, st in facts:
                t.append(" ")
                t.append(s, st)
            return t
        fact_text = Text()
        for s, st in facts:
            fact_text.append(" ")
            fact_text.append(s, st)
        if title and t.cell_len + fact_text.cell_len > room:
            # cut the title, keeping what follows it (mail), so the facts still fit
            rest = Text()
            for s, st in tail:
                rest.append(" ")
                rest.append(s, st)
            head = Text()
            for i, (s, st) in enumerate(left):
                if i:
                    head.append(" ")
                head.append(s, st)
            keep = room - head.cell_len - rest.cell_len - fact_text.cell_len - 1
            if keep >= 4:
                cut = Text(title, Style(color=var(self.app, "muted")))
                cut.truncate(keep, overflow="ellipsis")
                head.append(" ")
                head.append_text(cut)
            head.append_text(rest)
            t = head
        if facts:
            pad = room - t.cell_len - fact_text.cell_len
            if pad > 0:
                t.append(" " * pad)
            t.append_text(fact_text)
        return t

    def row_width(self, depth: int) -> int:
        """Cells a row at `depth` (1: a child of the hidden root) has for its label; 0 before layout."""
        w = self.scrollable_content_region.width if self.is_mounted else 0
        if w <= 0:
            return 0
        return max(0, w - (depth - 1) * self.guide_depth)

    def on_resize(self, _event) -> None:
        if self._snap is not None:
            self.update_snapshot(self._snap)

    def tick(self) -> None:
        """Time in state moves on with no new snapshot: relabel when a row's age will read
        differently (once a minute at most per row; only changed rows repaint)."""
        if self._snap is not None and self.app.clock() >= self._next_tick:
            self.update_snapshot(self._snap)

    def _ensure(self, key: str, parent: TreeNode[str], label: Text | str, *, leaf: bool,
                expand: bool = True) -> TreeNode[str]:
        node = self._keyed.get(key)
        if node is None:
            # insert after the sibling placed just before it in this pass, so a row that comes
            # back (a filter cleared, an agent restarted) takes its own place, not the end
            prev = self._placed.get(id(parent))
            where = {"after": prev} if prev is not None else ({"before": 0} if parent.children else {})
            node = parent.add(label, data=key, expand=expand and not leaf, allow_expand=not leaf, **where)
            self._keyed[key] = node
        elif str(node.label) != str(label) or (isinstance(label, Text) and node.label.spans != label.spans):
            node.set_label(label)
        self._placed[id(parent)] = node
        return node

    def _matches(self, a: AgentView) -> bool:
        f = self.filter_text.lower()
        return not f or f in a.address.lower() or f in a.state or f in a.hook_id.lower() or f in a.hook_title.lower()

    def update_snapshot(self, snap: TownSnapshot) -> None:
        self._snap = snap
        now = self.app.clock()
        self._next_tick = min((age_changes_at(a.since, now) for a in snap.agents if a.since), default=float("inf"))
        self._placed: dict[int, TreeNode[str]] = {}
        wanted: set[str] = set()
        self._agents = {a.address: a for a in snap.agents}
        root = self.root
        for a in snap.town_agents:
            if self._matches(a):
                self._ensure(a.address, root, self._label(a, 1), leaf=True)
                wanted.add(a.address)
        for rig in snap.rigs:
            rkey = f"rig:{rig.name}"
            head = Text(rig.name, Style(bold=True))
            if rig.parked:
                head.append(" parked", Style(color=var(self.app, "muted")))
            rnode = self._ensure(rkey, root, head, leaf=False)
            wanted.add(rkey)
            for a in self._ordered(rig.agents):
                if not self._matches(a):
                    continue
                if a.role in ("witness", "refinery"):
                    mq = [(f"mq:{rig.mq_length}", Style(color=var(self.app, "muted")))] if a.role == "refinery" else []
                    self._ensure(a.address, rnode, self._label(a, 2, mq), leaf=True)
                else:
                    gkey = f"group:{rig.name}:{a.role}"
                    group = "polecats" if a.role == "polecat" else "crew"
                    gnode = self._ensure(gkey, rnode, Text(group, Style(color=var(self.app, "muted"))), leaf=False)
                    wanted.add(gkey)
                    self._ensure(a.address, gnode, self._label(a, 3), leaf=True)
                wanted.add(a.address)
        for key in [k for k in self._keyed if k not in wanted]:
            node = self._keyed.pop(key)
            try:
                node.remove()
            except Exception:  # noqa: BLE001 - already removed with its parent
                pass
        self._reorder(snap)

    def _ordered(self, agents) -> list[AgentView]:
        """A rig's agents in tree order: by role (as the snapshot gives them), then by name, or,
        sorted by state, the ones needing attention first (STATE_ORDER), then by name."""
        if self.sort_by != "state":
            return list(agents)
        first: dict[str, int] = {}
        for i, a in enumerate(agents):
            first.setdefault(a.role, i)
        return sorted(agents, key=lambda a: (first[a.role], state_rank(a.state)))

    def _reorder(self, snap: TownSnapshot) -> None:
        """Put each group's rows in the wanted order (sorting by state moves rows as states
        change); nodes cannot move, so a group out of order has its rows made again, in order."""
        for rig in snap.rigs:
            for role in ("crew", "polecat"):
                group = self._keyed.get(f"group:{rig.name}:{role}")
                if group is None:
                    continue
                want = [a.address for a in self._ordered(rig.agents) if a.role == role and a.address in self._keyed]
                have = [c.data for c in group.children]
                if have == want:
                    continue
                cursor = self.selected_address
                labels = {k: self._keyed[k].label for k in want}
                for k in want:
                    self._keyed.pop(k).remove()
                for k in want:
                    self._keyed[k] = group.add_leaf(labels[k], data=k)
                if cursor in labels:
                    _ = self.last_line  # the tree's lines again, so the row's new line is known
                    self.select_address(cursor)

    def action_sort_by_state(self) -> None:
        """`o`: workers sorted by state (attention first) or by name, and the title says which."""
        self.sort_by = "name" if self.sort_by == "state" else "state"
        if self._snap is not None:
            self.update_snapshot(self._snap)
        self.post_message(self.SortChanged())

    def select_address(self, address: str) -> bool:
        node = self._keyed.get(address)
        if node is None:
            return False
        parent = node.parent
        while parent is not None:
            parent.expand()
            parent = parent.parent
        self.call_after_refresh(self.move_cursor, node)
        self.move_cursor(node)
        return True

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted) -> None:
        event.stop()
        self.post_message(self.AgentSelected(self.selected_address))

    def action_toggle_node(self) -> None:
        node = self.cursor_node
        if node is not None and node.allow_expand:
            node.toggle()

