"""The key footer, recomposed once per change of what it shows.

Textual's Footer rebuilds all its keys on every `bindings_updated` signal, and a screen sends
several while it starts (each focus move, each field hidden or shown): about eight rebuilds of
every key before the first paint, a fifth of the start-up's CPU. This one coalesces the signals
into one rebuild after the next refresh, and skips it when the keys it would show are the ones
shown already. What it shows is still Footer's own compose.
"""

from __future__ import annotations

from textual.widgets import Footer


class KeyFooter(Footer):
    _rebuild_due = False
    _shown: tuple | None = None

    def bindings_changed(self, screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._rebuild_due:
            self._rebuild_due = True
            self.call_after_refresh(self._rebuild)

    def _wanted(self) -> tuple:
        """What compose would show: each shown binding with its enabled state and tooltip, and
        the palette's key."""
        active = self.screen.active_bindings
        keys = tuple((b, enabled, tip) for (_n, b, enabled, tip) in active.values() if b.show)
        palette = active.get(self.app.COMMAND_PALETTE_BINDING)
        return (keys, palette[1:] if palette else None, self.show_command_palette, self.compact)

    async def _rebuild(self) -> None:
        self._rebuild_due = False
        if not self.is_attached:
            return
        wanted = self._wanted()
        if wanted == self._shown:
            return
        self._shown = wanted
        await self.recompose()
