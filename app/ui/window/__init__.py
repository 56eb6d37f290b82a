"""The main window's frame: menus, columns, status bar, settings, theme, language, help dialogs."""
