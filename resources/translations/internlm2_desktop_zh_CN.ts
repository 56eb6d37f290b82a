<?xml version='1.0' encoding='utf-8'?>
<TS version="2.1" language="zh_CN">
<context>
    <name>ChatController</name>
    <message>
        <location filename="../../app/ui/chat_controller.py" line="88" />
        <source>Stop the current reply before loading another model.</source>
        <translation>请先停止当前回复，再加载其他模型。</translation>
    </message>
    <message>
        <location filename="../../app/ui/chat_controller.py" line="147" />
        <source>A reply is still being written; stop it or wait for it to finish.</source>
        <translation>回复仍在生成中；请停止它或等待其完成。</translation>
    </message>
    <message>
        <location filename="../../app/ui/chat_controller.py" line="150" />
        <location filename="../../app/ui/chat_controller.py" line="217" />
        <source>No model is loaded. Open a model first.</source>
        <translation>尚未加载模型。请先打开一个模型。</translation>
    </message>
    <message>
        <location filename="../../app/ui/chat_controller.py" line="236" />
        <source>The model is busy; try again in a moment.</source>
        <translation>模型正忙，请稍后再试。</translation>
    </message>
</context>
<context>
    <name>ChatView</name>
    <message>
        <location filename="../../app/ui/chat_view.py" line="102" />
        <source>You</source>
        <translation>你</translation>
    </message>
    <message>
        <location filename="../../app/ui/chat_view.py" line="102" />
        <source>Assistant</source>
        <translation>助手</translation>
    </message>
    <message>
        <location filename="../../app/ui/chat_view.py" line="104" />
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <location filename="../../app/ui/chat_view.py" line="107" />
        <source>Edit</source>
        <translation>编辑</translation>
    </message>
    <message>
        <location filename="../../app/ui/chat_view.py" line="129" />
        <source>… and %1 more characters</source>
        <translation>……另有 %1 个字符</translation>
    </message>
    <message>
        <location filename="../../app/ui/chat_view.py" line="133" />
        <source>Copy code</source>
        <translation>复制代码</translation>
    </message>
    <message>
        <location filename="../../app/ui/chat_view.py" line="146" />
        <source>The reply failed: %1</source>
        <translation>回复失败：%1</translation>
    </message>
    <message>
        <location filename="../../app/ui/chat_view.py" line="148" />
        <source>Stopped; the reply is incomplete.</source>
        <translation>已停止；回复不完整。</translation>
    </message>
    <message>
        <location filename="../../app/ui/chat_view.py" line="153" />
        <source>%1 tokens · %2 tokens/s · first token after %3 s</source>
        <translation>%1 个词元 · 每秒 %2 个词元 · 首个词元用时 %3 秒</translation>
    </message>
</context>
<context>
    <name>Composer</name>
    <message>
        <location filename="../../app/ui/composer.py" line="65" />
        <source>Cancel edit</source>
        <translation>取消编辑</translation>
    </message>
    <message>
        <location filename="../../app/ui/composer.py" line="75" />
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <location filename="../../app/ui/composer.py" line="84" />
        <source>Type a message. Enter sends, Shift+Enter adds a line.</source>
        <translation>输入消息。按 Enter 发送，Shift+Enter 换行。</translation>
    </message>
    <message>
        <location filename="../../app/ui/composer.py" line="92" />
        <source>Send</source>
        <translation>发送</translation>
    </message>
    <message>
        <location filename="../../app/ui/composer.py" line="95" />
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <location filename="../../app/ui/composer.py" line="96" />
        <source>Stop the reply (Esc)</source>
        <translation>停止回复（Esc）</translation>
    </message>
    <message>
        <location filename="../../app/ui/composer.py" line="99" />
        <source>Regenerate</source>
        <translation>重新生成</translation>
    </message>
    <message>
        <location filename="../../app/ui/composer.py" line="100" />
        <source>Write the last reply again</source>
        <translation>重新生成最后一条回复</translation>
    </message>
    <message>
        <location filename="../../app/ui/composer.py" line="112" />
        <source>Pasted text: %1 characters, sent with the message.</source>
        <translation>已粘贴文本：%1 个字符，将随消息一起发送。</translation>
    </message>
    <message numerus="yes">
        <location filename="../../app/ui/composer.py" line="143" />
        <source>Editing an earlier message. Sending it replaces the %n later message(s) of this conversation.</source>
        <translation><numerusform>正在编辑之前的消息。发送后将替换本对话中其后的 %n 条消息。</numerusform></translation>
    </message>
</context>
<context>
    <name>ConversationList</name>
    <message>
        <location filename="../../app/ui/conversation_list.py" line="52" />
        <location filename="../../app/ui/conversation_list.py" line="113" />
        <location filename="../../app/ui/conversation_list.py" line="150" />
        <location filename="../../app/ui/conversation_list.py" line="160" />
        <source>New chat</source>
        <translation>新对话</translation>
    </message>
    <message>
        <location filename="../../app/ui/conversation_list.py" line="53" />
        <source>Start a new conversation (Ctrl+N)</source>
        <translation>开始新对话（Ctrl+N）</translation>
    </message>
    <message>
        <location filename="../../app/ui/conversation_list.py" line="57" />
        <source>Search all conversations (Ctrl+F)</source>
        <translation>搜索所有对话（Ctrl+F）</translation>
    </message>
    <message>
        <location filename="../../app/ui/conversation_list.py" line="79" />
        <source>No message matches.</source>
        <translation>没有匹配的消息。</translation>
    </message>
    <message>
        <location filename="../../app/ui/conversation_list.py" line="85" />
        <source>Conversation moved to the trash.</source>
        <translation>对话已移至回收站。</translation>
    </message>
    <message>
        <location filename="../../app/ui/conversation_list.py" line="87" />
        <source>Undo</source>
        <translation>撤销</translation>
    </message>
    <message>
        <location filename="../../app/ui/conversation_list.py" line="96" />
        <location filename="../../app/ui/conversation_list.py" line="176" />
        <source>Rename</source>
        <translation>重命名</translation>
    </message>
    <message>
        <location filename="../../app/ui/conversation_list.py" line="100" />
        <location filename="../../app/ui/conversation_list.py" line="177" />
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <location filename="../../app/ui/conversation_list.py" line="160" />
        <source>“%1” moved to the trash.</source>
        <translation>“%1”已移至回收站。</translation>
    </message>
</context>
<context>
    <name>CrashHandler</name>
    <message>
        <location filename="../../app/ui/crash.py" line="79" />
        <source>Something unexpected went wrong (%1). The app keeps running and your conversations are saved.</source>
        <translation>发生了意外错误（%1）。应用仍在运行，您的对话已保存。</translation>
    </message>
    <message>
        <location filename="../../app/ui/crash.py" line="81" />
        <source>The details are in %1.</source>
        <translation>详细信息见 %1。</translation>
    </message>
    <message>
        <location filename="../../app/ui/crash.py" line="86" />
        <source>Something went wrong</source>
        <translation>出错了</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../app/ui/main_window.py" line="111" />
        <source>No model is loaded: you can read and search, but not send.</source>
        <translation>尚未加载模型：可以阅读和搜索，但不能发送。</translation>
    </message>
    <message>
        <location filename="../../app/ui/main_window.py" line="112" />
        <source>Open a model…</source>
        <translation>打开模型…</translation>
    </message>
    <message>
        <location filename="../../app/ui/main_window.py" line="118" />
        <source>Copied.</source>
        <translation>已复制。</translation>
    </message>
    <message>
        <location filename="../../app/ui/main_window.py" line="208" />
        <source>Stop the reply before editing.</source>
        <translation>请先停止回复再编辑。</translation>
    </message>
    <message>
        <location filename="../../app/ui/main_window.py" line="239" />
        <source>Open a model</source>
        <translation>打开模型</translation>
    </message>
    <message>
        <location filename="../../app/ui/main_window.py" line="240" />
        <source>Models (*.gguf config.json);;GGUF files (*.gguf);;Checkpoint folder (config.json)</source>
        <translation>模型 (*.gguf config.json);;GGUF 文件 (*.gguf);;检查点文件夹 (config.json)</translation>
    </message>
    <message>
        <location filename="../../app/ui/main_window.py" line="245" />
        <source>Open a checkpoint folder</source>
        <translation>打开检查点文件夹</translation>
    </message>
    <message>
        <location filename="../../app/ui/main_window.py" line="252" />
        <source>That is not a model: drop a .gguf file or a checkpoint folder.</source>
        <translation>这不是模型：请拖入 .gguf 文件或检查点文件夹。</translation>
    </message>
    <message>
        <location filename="../../app/ui/main_window.py" line="307" />
        <source>About %1</source>
        <translation>关于 %1</translation>
    </message>
    <message>
        <location filename="../../app/ui/main_window.py" line="308" />
        <source>%1 %2: chat with the InternLM2-1.8B models offline.</source>
        <translation>%1 %2：离线与 InternLM2-1.8B 模型对话。</translation>
    </message>
</context>
<context>
    <name>SamplingForm</name>
    <message>
        <location filename="../../app/ui/sampling_form.py" line="23" />
        <source>0 always picks the likeliest word; higher is more varied.</source>
        <translation>0 总是选择最可能的词；数值越高，回复越多样。</translation>
    </message>
    <message>
        <location filename="../../app/ui/sampling_form.py" line="27" />
        <source>off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location filename="../../app/ui/sampling_form.py" line="32" />
        <source>Temperature</source>
        <translation>温度</translation>
    </message>
    <message>
        <location filename="../../app/ui/sampling_form.py" line="33" />
        <source>Top-p</source>
        <translation>Top-p 采样</translation>
    </message>
    <message>
        <location filename="../../app/ui/sampling_form.py" line="34" />
        <source>Top-k</source>
        <translation>Top-k 采样</translation>
    </message>
    <message>
        <location filename="../../app/ui/sampling_form.py" line="35" />
        <source>Repetition penalty</source>
        <translation>重复惩罚</translation>
    </message>
    <message>
        <location filename="../../app/ui/sampling_form.py" line="36" />
        <source>Longest reply (tokens)</source>
        <translation>最长回复（词元）</translation>
    </message>
    <message>
        <location filename="../../app/ui/sampling_form.py" line="37" />
        <source>Official defaults</source>
        <translation>官方默认值</translation>
    </message>
    <message>
        <location filename="../../app/ui/sampling_form.py" line="38" />
        <source>Temperature 0.8, top-p 0.8, 1024 tokens: the model's own chat() settings</source>
        <translation>温度 0.8，top-p 0.8，1024 个词元：模型自带 chat() 的设置</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="40" />
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="43" />
        <source>Appearance</source>
        <translation>外观</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="45" />
        <source>Follow the system</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="45" />
        <source>Light</source>
        <translation>浅色</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="45" />
        <source>Dark</source>
        <translation>深色</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="49" />
        <source>Theme</source>
        <translation>主题</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="50" />
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="52" />
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="56" />
        <source>Opened at start (a .gguf file or a checkpoint folder)</source>
        <translation>启动时打开（.gguf 文件或检查点文件夹）</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="57" />
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="61" />
        <location filename="../../app/ui/settings_dialog.py" line="99" />
        <source>Default model</source>
        <translation>默认模型</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="62" />
        <source>Choose from the file</source>
        <translation>根据文件自动选择</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="64" />
        <source>Backend</source>
        <translation>后端</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="67" />
        <source>automatic</source>
        <translation>自动</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="69" />
        <source>CPU threads</source>
        <translation>CPU 线程数</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="72" />
        <source>all</source>
        <translation>全部</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="74" />
        <source>GPU layers</source>
        <translation>GPU 层数</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="76" />
        <source>q8_0 halves the memory the context needs</source>
        <translation>q8_0 可将上下文所需内存减半</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="77" />
        <source>KV cache type</source>
        <translation>KV 缓存类型</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="82" />
        <source>Context (tokens)</source>
        <translation>上下文（词元）</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="84" />
        <source>New conversations</source>
        <translation>新对话</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="90" />
        <source>Model settings apply the next time a model is opened.</source>
        <translation>模型设置将在下次打开模型时生效。</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="100" />
        <source>GGUF models (*.gguf)</source>
        <translation>GGUF 模型 (*.gguf)</translation>
    </message>
</context>
<context>
    <name>ShortcutsDialog</name>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="118" />
        <source>Keyboard shortcuts</source>
        <translation>键盘快捷键</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="121" />
        <source>New conversation</source>
        <translation>新建对话</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="122" />
        <source>Search all conversations</source>
        <translation>搜索所有对话</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="123" />
        <source>Send the message</source>
        <translation>发送消息</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="124" />
        <source>New line in the message</source>
        <translation>在消息中换行</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="125" />
        <source>Stop the reply</source>
        <translation>停止回复</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="126" />
        <source>Open a model</source>
        <translation>打开模型</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="127" />
        <source>Rename the selected conversation</source>
        <translation>重命名所选对话</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="128" />
        <source>Move the selected conversation to the trash</source>
        <translation>将所选对话移至回收站</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="129" />
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <location filename="../../app/ui/settings_dialog.py" line="130" />
        <source>This help</source>
        <translation>本帮助</translation>
    </message>
</context>
<context>
    <name>SidePanel</name>
    <message>
        <location filename="../../app/ui/side_panel.py" line="23" />
        <source>&lt;b&gt;This conversation&lt;/b&gt;</source>
        <translation>&lt;b&gt;本对话&lt;/b&gt;</translation>
    </message>
    <message>
        <location filename="../../app/ui/side_panel.py" line="25" />
        <source>System prompt</source>
        <translation>系统提示词</translation>
    </message>
    <message>
        <location filename="../../app/ui/side_panel.py" line="27" />
        <source>No system prompt</source>
        <translation>无系统提示词</translation>
    </message>
    <message>
        <location filename="../../app/ui/side_panel.py" line="30" />
        <source>Official system prompt</source>
        <translation>官方系统提示词</translation>
    </message>
    <message>
        <location filename="../../app/ui/side_panel.py" line="33" />
        <source>Sampling</source>
        <translation>采样</translation>
    </message>
</context>
<context>
    <name>StatusPanel</name>
    <message>
        <location filename="../../app/ui/status_panel.py" line="27" />
        <location filename="../../app/ui/status_panel.py" line="37" />
        <source>No model loaded</source>
        <translation>未加载模型</translation>
    </message>
    <message>
        <location filename="../../app/ui/status_panel.py" line="43" />
        <source>model</source>
        <translation>模型</translation>
    </message>
    <message>
        <location filename="../../app/ui/status_panel.py" line="46" />
        <source>%1 on %2</source>
        <translation>%1，运行于 %2</translation>
    </message>
    <message>
        <location filename="../../app/ui/status_panel.py" line="56" />
        <source>Context: %1 / %2 tokens</source>
        <translation>上下文：%1 / %2 个词元</translation>
    </message>
    <message>
        <location filename="../../app/ui/status_panel.py" line="65" />
        <source>First token %1 s · %2 tokens/s</source>
        <translation>首个词元 %1 秒 · 每秒 %2 个词元</translation>
    </message>
    <message>
        <location filename="../../app/ui/status_panel.py" line="73" />
        <source>about %1 min left</source>
        <translation>约剩 %1 分钟</translation>
    </message>
    <message>
        <location filename="../../app/ui/status_panel.py" line="74" />
        <source>about %1 s left</source>
        <translation>约剩 %1 秒</translation>
    </message>
    <message>
        <location filename="../../app/ui/status_panel.py" line="81" />
        <source>Reading: %1 / %2 tokens</source>
        <translation>正在读取：%1 / %2 个词元</translation>
    </message>
    <message>
        <location filename="../../app/ui/status_panel.py" line="88" />
        <source>Loading the model…</source>
        <translation>正在加载模型…</translation>
    </message>
</context>
<context>
    <name>WelcomePage</name>
    <message>
        <location filename="../../app/ui/welcome.py" line="20" />
        <source>Welcome to InternLM2 Desktop</source>
        <translation>欢迎使用 InternLM2 桌面版</translation>
    </message>
    <message>
        <location filename="../../app/ui/welcome.py" line="28" />
        <source>Chat with the InternLM2-1.8B models on this computer, offline, and ask questions about long documents read whole.

To begin, open a model: a .gguf file or a checkpoint folder. You can also drop one on this window.</source>
        <translation>在本机离线与 InternLM2-1.8B 模型对话，并就完整读入的长文档提问。

首先请打开一个模型：.gguf 文件或检查点文件夹。也可以直接把它拖到此窗口。</translation>
    </message>
    <message>
        <location filename="../../app/ui/welcome.py" line="37" />
        <source>Open a model…</source>
        <translation>打开模型…</translation>
    </message>
    <message>
        <location filename="../../app/ui/welcome.py" line="40" />
        <source>Download a model…</source>
        <translation>下载模型…</translation>
    </message>
    <message>
        <location filename="../../app/ui/welcome.py" line="57" />
        <source>Loading %1…</source>
        <translation>正在加载 %1…</translation>
    </message>
</context>
<context>
    <name>WindowMenus</name>
    <message>
        <location filename="../../app/ui/window_menus.py" line="45" />
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <location filename="../../app/ui/window_menus.py" line="45" />
        <source>&amp;Chat</source>
        <translation>对话(&amp;C)</translation>
    </message>
    <message>
        <location filename="../../app/ui/window_menus.py" line="46" />
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <location filename="../../app/ui/window_menus.py" line="46" />
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <location filename="../../app/ui/window_menus.py" line="48" />
        <source>New conversation</source>
        <translation>新建对话</translation>
    </message>
    <message>
        <location filename="../../app/ui/window_menus.py" line="49" />
        <source>Open a model…</source>
        <translation>打开模型…</translation>
    </message>
    <message>
        <location filename="../../app/ui/window_menus.py" line="50" />
        <source>Open a checkpoint folder…</source>
        <translation>打开检查点文件夹…</translation>
    </message>
    <message>
        <location filename="../../app/ui/window_menus.py" line="51" />
        <source>Download a model…</source>
        <translation>下载模型…</translation>
    </message>
    <message>
        <location filename="../../app/ui/window_menus.py" line="53" />
        <source>Settings…</source>
        <translation>设置…</translation>
    </message>
    <message>
        <location filename="../../app/ui/window_menus.py" line="55" />
        <source>Quit</source>
        <translation>退出</translation>
    </message>
    <message>
        <location filename="../../app/ui/window_menus.py" line="56" />
        <source>Search conversations</source>
        <translation>搜索对话</translation>
    </message>
    <message>
        <location filename="../../app/ui/window_menus.py" line="58" />
        <source>Stop the reply</source>
        <translation>停止回复</translation>
    </message>
    <message>
        <location filename="../../app/ui/window_menus.py" line="59" />
        <source>Regenerate the last reply</source>
        <translation>重新生成最后一条回复</translation>
    </message>
    <message>
        <location filename="../../app/ui/window_menus.py" line="60" />
        <source>Rename conversation</source>
        <translation>重命名对话</translation>
    </message>
    <message>
        <location filename="../../app/ui/window_menus.py" line="61" />
        <source>Delete conversation</source>
        <translation>删除对话</translation>
    </message>
    <message>
        <location filename="../../app/ui/window_menus.py" line="62" />
        <source>Conversation settings panel</source>
        <translation>对话设置面板</translation>
    </message>
    <message>
        <location filename="../../app/ui/window_menus.py" line="63" />
        <source>Keyboard shortcuts</source>
        <translation>键盘快捷键</translation>
    </message>
    <message>
        <location filename="../../app/ui/window_menus.py" line="64" />
        <source>About</source>
        <translation>关于</translation>
    </message>
</context>
</TS>