<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>AboutDialog</name>
    <message>
        <source>About %1</source>
        <translation>关于 %1</translation>
    </message>
    <message>
        <source>About</source>
        <translation>关于</translation>
    </message>
    <message>
        <source>Model licence</source>
        <translation>模型许可</translation>
    </message>
    <message>
        <source>Package</source>
        <translation>软件包</translation>
    </message>
    <message>
        <source>Version</source>
        <translation>版本</translation>
    </message>
    <message>
        <source>Licence</source>
        <translation>许可证</translation>
    </message>
    <message>
        <source>Third-party licences</source>
        <translation>第三方许可</translation>
    </message>
    <message>
        <source>packaged app</source>
        <translation>打包版</translation>
    </message>
    <message>
        <source>source run</source>
        <translation>源码运行</translation>
    </message>
    <message>
        <source>Chat with the InternLM2-1.8B models offline and read long documents whole.

Licensed under the Apache License, Version 2.0 (below).
Python %1, %2.</source>
        <translation>离线与 InternLM2-1.8B 模型对话，并完整阅读长文档。

以 Apache License 2.0 授权（见下文）。
Python %1，%2。</translation>
    </message>
    <message>
        <source>The app does not include model weights: you download them from the model hub, under their own licence.</source>
        <translation>本应用不包含模型权重：权重需从模型仓库下载，并适用其自身的许可。</translation>
    </message>
</context>
<context>
    <name>Application</name>
    <message>
        <source>%1 The old file was kept as %2; a new, empty one was started.</source>
        <translation>%1 旧文件已保留为 %2；已新建一个空的数据库。</translation>
    </message>
    <message>
        <source>Retry</source>
        <translation>重试</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>退出</translation>
    </message>
    <message>
        <source>InternLM2 Desktop is already running with this conversation database (%1) but does not answer. Wait for it, or close it, then start again.</source>
        <translation>InternLM2 Desktop 已在使用此对话数据库（%1）运行，但没有响应。请稍候，或关闭它后再重新启动。</translation>
    </message>
    <message>
        <source>The last conversation was not reopened because the app closed unexpectedly twice while showing it; choose it in the list to try again.</source>
        <translation>上次的对话没有重新打开：应用在显示它时已两次意外关闭。可以在列表中选中它再试一次。</translation>
    </message>
</context>
<context>
    <name>ChatController</name>
    <message>
        <source>Stop the current reply before loading another model.</source>
        <translation>请先停止当前回复，再加载其他模型。</translation>
    </message>
    <message>
        <source>The conversation is now longer than the model&apos;s trained %1 tokens: it is read again with the long-context scaling for up to %2 tokens, so this answer takes longer.</source>
        <translation>对话现在已超过模型训练时的 %1 个词元：将以长上下文缩放（最多 %2 个词元）重新读取，因此这次回答会慢一些。</translation>
    </message>
    <message>
        <source>The conversation fits the model&apos;s trained %1 tokens again: it is read again with the model&apos;s own rope base, so this answer takes longer.</source>
        <translation>对话又回到模型训练时的 %1 个词元以内：将以模型自身的 RoPE 基数重新读取，因此这次回答会慢一些。</translation>
    </message>
    <message>
        <source>Nothing can be saved: the conversation database is read-only (%1). Conversations can still be read and exported.</source>
        <translation>无法保存任何内容：对话数据库是只读的（%1）。对话仍然可以阅读和导出。</translation>
    </message>
    <message>
        <source>Still stopping; send again in a moment.</source>
        <translation>仍在停止中；请稍后再发送。</translation>
    </message>
    <message>
        <source>A reply is still being written; stop it or wait for it to finish.</source>
        <translation>回复仍在生成中；请停止它或等待其完成。</translation>
    </message>
    <message>
        <source>The document is still being opened; send again in a moment.</source>
        <translation>文档仍在打开中；请稍后再发送。</translation>
    </message>
    <message>
        <source>No model is loaded. Open a model first.</source>
        <translation>尚未加载模型。请先打开一个模型。</translation>
    </message>
    <message>
        <source>The message being edited no longer exists (it was deleted for good), so nothing was sent. Its text stays in the box: Send asks it as a new question.</source>
        <translation>正在编辑的消息已不存在（已被永久删除），所以没有发送任何内容。它的文字仍留在输入框中：点击发送会把它作为新问题提出。</translation>
    </message>
    <message>
        <source>The question was not sent: the conversation changed meanwhile.</source>
        <translation>问题未发送：对话在此期间已切换。</translation>
    </message>
    <message>
        <source>The tool&apos;s result does not fit the model&apos;s context, so the answer cannot go on. Ask a shorter question, or load the model with a larger context.</source>
        <translation>工具的结果放不进模型的上下文，回答无法继续。请问一个更短的问题，或以更大的上下文加载模型。</translation>
    </message>
    <message>
        <source>The question will be sent once the document has been read.</source>
        <translation>文档读完后将发送这个问题。</translation>
    </message>
    <message>
        <source>The model is busy; try again in a moment.</source>
        <translation>模型正忙，请稍后再试。</translation>
    </message>
</context>
<context>
    <name>ChatView</name>
    <message>
        <source>You</source>
        <translation>你</translation>
    </message>
    <message>
        <source>Assistant</source>
        <translation>助手</translation>
    </message>
    <message>
        <source>Tool</source>
        <translation>工具</translation>
    </message>
    <message>
        <source>Copy</source>
        <translation>复制</translation>
    </message>
    <message>
        <source>Edit</source>
        <translation>编辑</translation>
    </message>
    <message>
        <source>Previous version (Alt+Left)</source>
        <translation>上一个版本（Alt+Left）</translation>
    </message>
    <message>
        <source>Next version (Alt+Right)</source>
        <translation>下一个版本（Alt+Right）</translation>
    </message>
    <message>
        <source>Delete version</source>
        <translation>删除此版本</translation>
    </message>
    <message>
        <source>… and %1 more characters</source>
        <translation>……另有 %1 个字符</translation>
    </message>
    <message>
        <source>Calls the tool %1 with %2</source>
        <translation>调用工具 %1，参数 %2</translation>
    </message>
    <message>
        <source>The model asked to run code; this app does not run model-written code (it is shown as text). Nothing ran.</source>
        <translation>模型请求运行代码；本应用不运行模型编写的代码（按文本显示）。没有运行任何东西。</translation>
    </message>
    <message>
        <source>This looks like a tool call, but it could not be read (it is shown as text); nothing ran.</source>
        <translation>这看起来是一次工具调用，但无法解析（按文本显示）；没有运行任何东西。</translation>
    </message>
    <message>
        <source>You did not allow %1 to run.</source>
        <translation>你没有允许 %1 运行。</translation>
    </message>
    <message>
        <source>%1 is not switched on for this conversation; nothing ran.</source>
        <translation>%1 在这个对话中没有开启；没有运行任何东西。</translation>
    </message>
    <message>
        <source>The result of %1.</source>
        <translation>%1 的结果。</translation>
    </message>
    <message>
        <source>Run %1?</source>
        <translation>运行 %1？</translation>
    </message>
    <message>
        <source>Allow once</source>
        <translation>允许一次</translation>
    </message>
    <message>
        <source>Always for this conversation</source>
        <translation>在这个对话中始终允许</translation>
    </message>
    <message>
        <source>Deny</source>
        <translation>拒绝</translation>
    </message>
    <message>
        <source>(keys: Alt+Y, Alt+A, Alt+N)</source>
        <translation>（快捷键：Alt+Y、Alt+A、Alt+N）</translation>
    </message>
    <message>
        <source>Only the first %1 characters are shown; Copy copies the whole reply.</source>
        <translation>只显示了前 %1 个字符；“复制”会复制整条回复。</translation>
    </message>
    <message>
        <source>Part of this reply is shown as plain text: it is too large or too deeply nested to format.</source>
        <translation>这条回复的一部分以纯文本显示：它太大或嵌套太深，无法排版。</translation>
    </message>
    <message>
        <source>image</source>
        <translation>图片</translation>
    </message>
    <message>
        <source>Copy code</source>
        <translation>复制代码</translation>
    </message>
    <message>
        <source>Document replaced: %1 → %2</source>
        <translation>文档已替换：%1 → %2</translation>
    </message>
    <message>
        <source>Document attached: %1</source>
        <translation>已附加文档：%1</translation>
    </message>
    <message>
        <source>Document removed: %1</source>
        <translation>已移除文档：%1</translation>
    </message>
    <message>
        <source>about %1</source>
        <translation>关于 %1</translation>
    </message>
    <message>
        <source>The reply failed: %1</source>
        <translation>回复失败：%1</translation>
    </message>
    <message>
        <source>Stopped; the reply is incomplete.</source>
        <translation>已停止；回复不完整。</translation>
    </message>
    <message>
        <source>%1 tokens · %2 tokens/s · first token after %3 s</source>
        <translation>%1 个词元 · 每秒 %2 个词元 · 首个词元用时 %3 秒</translation>
    </message>
    <message>
        <source>The link&apos;s address was copied (%1): paste it in your browser to open it.</source>
        <translation>链接地址已复制（%1）：粘贴到浏览器中即可打开。</translation>
    </message>
</context>
<context>
    <name>Composer</name>
    <message>
        <source>Cancel edit</source>
        <translation>取消编辑</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <source>Type a message. Enter sends, Shift+Enter adds a line.</source>
        <translation>输入消息。按 Enter 发送，Shift+Enter 换行。</translation>
    </message>
    <message>
        <source>Send</source>
        <translation>发送</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Stop the reply (Esc)</source>
        <translation>停止回复（Esc）</translation>
    </message>
    <message>
        <source>Regenerate</source>
        <translation>重新生成</translation>
    </message>
    <message>
        <source>Write the last reply again</source>
        <translation>重新生成最后一条回复</translation>
    </message>
    <message>
        <source>Pasted text: %1 characters, sent with the message.</source>
        <translation>已粘贴文本：%1 个字符，将随消息一起发送。</translation>
    </message>
    <message numerus="yes">
        <source>Editing an earlier message. Sending it starts a new branch; the old one and its %n later message(s) are kept.</source>
        <translation>
            <numerusform>正在编辑较早的一条消息。发送后将开始一个新分支；原来的分支及其后的 %n 条消息都会保留。</numerusform>
        </translation>
    </message>
    <message>
        <source>Editing a message. Sending it starts a new branch; the old one is kept.</source>
        <translation>正在编辑一条消息。发送后将开始一个新分支；原来的分支会保留。</translation>
    </message>
</context>
<context>
    <name>ConversationFiles</name>
    <message>
        <source>Untitled conversation</source>
        <translation>未命名对话</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Created</source>
        <translation>创建时间</translation>
    </message>
    <message>
        <source>System prompt</source>
        <translation>系统提示词</translation>
    </message>
    <message>
        <source>Attached documents</source>
        <translation>附加文档</translation>
    </message>
    <message>
        <source>characters</source>
        <translation>个字符</translation>
    </message>
    <message>
        <source>(stopped before the end)</source>
        <translation>（在结束前停止）</translation>
    </message>
    <message>
        <source>Error</source>
        <translation>错误</translation>
    </message>
    <message>
        <source>tokens</source>
        <translation>个词元</translation>
    </message>
    <message>
        <source>first token</source>
        <translation>首个词元</translation>
    </message>
    <message>
        <source>Other versions not shown here: %1 (the JSON export keeps them all).</source>
        <translation>此处未显示的其他版本：%1 个（JSON 导出会保留全部版本）。</translation>
    </message>
    <message>
        <source>System</source>
        <translation>系统</translation>
    </message>
    <message>
        <source>User</source>
        <translation>用户</translation>
    </message>
    <message>
        <source>Assistant</source>
        <translation>助手</translation>
    </message>
    <message>
        <source>Tool output</source>
        <translation>工具输出</translation>
    </message>
    <message>
        <source>Open a conversation to export it.</source>
        <translation>请先打开要导出的对话。</translation>
    </message>
    <message>
        <source>Markdown (*.md)</source>
        <translation>Markdown (*.md)</translation>
    </message>
    <message>
        <source>JSON, can be imported again (*.json)</source>
        <translation>JSON，可再次导入 (*.json)</translation>
    </message>
    <message>
        <source>Export conversation</source>
        <translation>导出对话</translation>
    </message>
    <message>
        <source>Exported to %1.</source>
        <translation>已导出到 %1。</translation>
    </message>
    <message>
        <source>Import conversation</source>
        <translation>导入对话</translation>
    </message>
    <message>
        <source>Exported conversations (*.json);;All files (*)</source>
        <translation>导出的对话 (*.json);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Importing %1…</source>
        <translation>正在导入 %1…</translation>
    </message>
    <message>
        <source>Could not import %1: %2</source>
        <translation>无法导入 %1：%2</translation>
    </message>
    <message>
        <source>Imported “%1”.</source>
        <translation>已导入“%1”。</translation>
    </message>
    <message>
        <source>Export and import</source>
        <translation>导出与导入</translation>
    </message>
</context>
<context>
    <name>ConversationList</name>
    <message>
        <source>New chat</source>
        <translation>新对话</translation>
    </message>
    <message>
        <source>Start a new conversation (Ctrl+N)</source>
        <translation>开始新对话（Ctrl+N）</translation>
    </message>
    <message>
        <source>Search all conversations (Ctrl+F)</source>
        <translation>搜索所有对话（Ctrl+F）</translation>
    </message>
    <message>
        <source>Conversation moved to the trash.</source>
        <translation>对话已移至回收站。</translation>
    </message>
    <message>
        <source>Undo</source>
        <translation>撤销</translation>
    </message>
    <message>
        <source>Trash…</source>
        <translation>回收站…</translation>
    </message>
    <message>
        <source>Open the trash: restore or delete for good</source>
        <translation>打开回收站：恢复或永久删除</translation>
    </message>
    <message>
        <source>Rename</source>
        <translation>重命名</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>imported</source>
        <translation>已导入</translation>
    </message>
    <message>
        <source>%1
Imported from a file on %2</source>
        <translation>%1
于 %2 从文件导入</translation>
    </message>
    <message>
        <source>Today</source>
        <translation>今天</translation>
    </message>
    <message>
        <source>Yesterday</source>
        <translation>昨天</translation>
    </message>
    <message>
        <source>Previous 7 days</source>
        <translation>过去 7 天</translation>
    </message>
    <message>
        <source>“%1” moved to the trash.</source>
        <translation>“%1”已移至回收站。</translation>
    </message>
    <message>
        <source>No conversation or message matches “%1”.</source>
        <translation>没有与“%1”匹配的对话或消息。</translation>
    </message>
</context>
<context>
    <name>Core</name>
    <message>
        <source>is password-protected, or is an old Word (.doc) file renamed to .docx</source>
        <translation>受密码保护，或是被改名为 .docx 的旧版 Word（.doc）文件</translation>
    </message>
    <message>
        <source>{missing} of the {total} chapters of “{name}” could not be read (they are missing or damaged) and are left out; get a fresh copy of the book to include them.</source>
        <translation>“{name}”的 {total} 个章节中有 {missing} 个无法读取（缺失或损坏），已略去；请获取这本书的新副本以包含它们。</translation>
    </message>
    <message>
        <source>“{name}” could not be found;</source>
        <translation>找不到“{name}”；</translation>
    </message>
    <message>
        <source>check that it still exists and drop it again.</source>
        <translation>请确认它仍然存在，然后重新拖入。</translation>
    </message>
    <message>
        <source>“{name}” could not be opened ({reason});</source>
        <translation>无法打开“{name}”（{reason}）；</translation>
    </message>
    <message>
        <source>check that you may read it and that no other program has it locked, then try again.</source>
        <translation>请确认你有读取权限，且没有其他程序锁定它，然后重试。</translation>
    </message>
    <message>
        <source>“{name}” is a folder, not a document;</source>
        <translation>“{name}”是文件夹，不是文档；</translation>
    </message>
    <message>
        <source>drop the files inside it one at a time.</source>
        <translation>请把其中的文件逐个拖入。</translation>
    </message>
    <message>
        <source>“{name}” is not a regular file (a device or a pipe);</source>
        <translation>“{name}”不是普通文件（是设备或管道）；</translation>
    </message>
    <message>
        <source>save its contents to a file and drop that file.</source>
        <translation>请把内容保存为文件，再拖入该文件。</translation>
    </message>
    <message>
        <source>“{name}” is {size}, over the {limit} limit for one document;</source>
        <translation>“{name}”大小为 {size}，超过了单个文档 {limit} 的上限；</translation>
    </message>
    <message>
        <source>split it into smaller files, or copy the part you need and paste it as text.</source>
        <translation>请拆分成更小的文件，或复制所需部分并作为文本粘贴。</translation>
    </message>
    <message>
        <source>“{name}” contains no text;</source>
        <translation>“{name}”不包含任何文本；</translation>
    </message>
    <message>
        <source>check that you picked the right file.</source>
        <translation>请确认选择了正确的文件。</translation>
    </message>
    <message>
        <source>“{name}” is a {suffix} file, which the app cannot read;</source>
        <translation>“{name}”是 {suffix} 文件，应用无法读取；</translation>
    </message>
    <message>
        <source>“{name}” is a binary file, not text;</source>
        <translation>“{name}”是二进制文件，不是文本；</translation>
    </message>
    <message>
        <source>drop a text, PDF, Word (.docx), EPUB or HTML document instead.</source>
        <translation>请改为拖入文本、PDF、Word（.docx）、EPUB 或 HTML 文档。</translation>
    </message>
    <message>
        <source>“{name}” {detail};</source>
        <translation>“{name}”{detail}；</translation>
    </message>
    <message>
        <source>open it in a PDF viewer with its password, save or print it as a new PDF without protection, and drop that copy.</source>
        <translation>请用密码在 PDF 阅读器中打开它，另存或打印为不受保护的新 PDF，再拖入该副本。</translation>
    </message>
    <message>
        <source>“{name}” {detail} and could not be read;</source>
        <translation>“{name}”{detail}，无法读取；</translation>
    </message>
    <message>
        <source>download or copy it again, or open it in a PDF viewer and save a fresh copy.</source>
        <translation>请重新下载或复制，或在 PDF 阅读器中打开并另存一份新副本。</translation>
    </message>
    <message>
        <source>run OCR on it first (for example with OCRmyPDF or your scanner&apos;s software), then drop the new PDF.</source>
        <translation>请先对它进行 OCR 文字识别（例如使用 OCRmyPDF 或扫描仪软件），再拖入新的 PDF。</translation>
    </message>
    <message>
        <source>open it in Word or LibreOffice and save it again as .docx (or as PDF), then drop the new file.</source>
        <translation>请在 Word 或 LibreOffice 中打开并重新另存为 .docx（或 PDF），再拖入新文件。</translation>
    </message>
    <message>
        <source>“{name}” is locked by DRM, so its text cannot be read;</source>
        <translation>“{name}”受 DRM 保护，无法读取其文本；</translation>
    </message>
    <message>
        <source>use a DRM-free copy of the book, or export its text with the program you read it in.</source>
        <translation>请使用无 DRM 的副本，或用阅读它的程序导出文本。</translation>
    </message>
    <message>
        <source>“{name}” is not a valid EPUB book (it is damaged or incomplete);</source>
        <translation>“{name}”不是有效的 EPUB 电子书（已损坏或不完整）；</translation>
    </message>
    <message>
        <source>get a fresh copy, or convert it to PDF or plain text in an e-book program such as Calibre, then drop that file.</source>
        <translation>请获取新副本，或在 Calibre 等电子书程序中转换为 PDF 或纯文本，再拖入该文件。</translation>
    </message>
    <message>
        <source>“{name}” holds more than {limit} characters of text, far more than the model can read at once (its largest context holds about a million);</source>
        <translation>“{name}”包含超过 {limit} 个字符的文本，远超模型一次能读取的量（最大上下文约一百万）；</translation>
    </message>
    <message>
        <source>“{name}” {detail}, more than the app unpacks from one document (it may be damaged or built to exhaust memory);</source>
        <translation>“{name}”{detail}，超过了应用从单个文档解压的上限（它可能已损坏，或被构造来耗尽内存）；</translation>
    </message>
    <message>
        <source>if it is a real document, save it again in Word, LibreOffice or Calibre (or export it as PDF or text) and drop that file.</source>
        <translation>如果这是正常的文档，请在 Word、LibreOffice 或 Calibre 中重新保存（或导出为 PDF 或文本），再拖入该文件。</translation>
    </message>
    <message>
        <source>holds {count} files inside (the limit is {limit})</source>
        <translation>内含 {count} 个文件（上限为 {limit}）</translation>
    </message>
    <message>
        <source>has a part that unpacks from {packed} to {size} ({times} times its size)</source>
        <translation>有一部分会从 {packed} 解压为 {size}（放大 {times} 倍）</translation>
    </message>
    <message>
        <source>unpacks to {size} (the limit is {limit})</source>
        <translation>解压后为 {size}（上限为 {limit}）</translation>
    </message>
    <message>
        <source>has {size} of text and markup to parse (the limit is {limit})</source>
        <translation>有 {size} 的文本和标记需要解析（上限为 {limit}）</translation>
    </message>
    <message>
        <source>Reading “{name}” was stopped;</source>
        <translation>已停止读取“{name}”；</translation>
    </message>
    <message>
        <source>nothing was attached.</source>
        <translation>没有附加任何内容。</translation>
    </message>
    <message>
        <source>“{name}” holds more than {limit} tags and pieces of text, more than the app reads from one document (it may be damaged or built to stall readers);</source>
        <translation>“{name}”包含超过 {limit} 个标签和文本片段，超过了应用从单个文档读取的上限（它可能已损坏，或被构造来拖垮读取程序）；</translation>
    </message>
    <message>
        <source>if it is a real document, save the part you need as plain text or PDF and drop that.</source>
        <translation>如果这是正常的文档，请把所需部分另存为纯文本或 PDF 后再拖入。</translation>
    </message>
    <message>
        <source>“{name}” {detail}, more than the app reads from one document;</source>
        <translation>“{name}”{detail}，超过了应用从单个文档读取的上限；</translation>
    </message>
    <message>
        <source>split it into smaller PDFs (a PDF viewer can save page ranges) and drop the part you need.</source>
        <translation>请拆分成更小的 PDF（PDF 阅读器可以按页码范围另存），再拖入所需部分。</translation>
    </message>
    <message>
        <source>has {count} pages (the limit is {limit})</source>
        <translation>有 {count} 页（上限为 {limit}）</translation>
    </message>
    <message>
        <source>holds more than {limit} drawing instructions</source>
        <translation>包含超过 {limit} 条绘图指令</translation>
    </message>
    <message>
        <source>the app reads {kinds}.</source>
        <translation>应用可以读取 {kinds}。</translation>
    </message>
    <message>
        <source>“{name}” has no text layer on its only page (it is probably scanned);</source>
        <translation>“{name}”唯一的一页没有文字层（可能是扫描件）；</translation>
    </message>
    <message>
        <source>“{name}” has no text layer on any of its {pages} pages (it is probably scanned);</source>
        <translation>“{name}”的 {pages} 页都没有文字层（可能是扫描件）；</translation>
    </message>
    <message>
        <source>is protected by a password</source>
        <translation>受密码保护</translation>
    </message>
    <message>
        <source>is damaged or incomplete</source>
        <translation>已损坏或不完整</translation>
    </message>
    <message>
        <source>is not a valid Word (.docx) document</source>
        <translation>不是有效的 Word（.docx）文档</translation>
    </message>
    <message>
        <source>save it as .docx or PDF in your word processor and drop that file.</source>
        <translation>请在文字处理软件中另存为 .docx 或 PDF，再拖入该文件。</translation>
    </message>
    <message>
        <source>export the sheet as CSV and drop that file.</source>
        <translation>请把表格导出为 CSV，再拖入该文件。</translation>
    </message>
    <message>
        <source>export the slides as PDF and drop that file.</source>
        <translation>请把幻灯片导出为 PDF，再拖入该文件。</translation>
    </message>
    <message>
        <source>the app reads text only: run OCR on the image and drop the PDF or text it makes.</source>
        <translation>应用只读取文本：请对图片进行 OCR 文字识别，再拖入生成的 PDF 或文本。</translation>
    </message>
    <message>
        <source>convert it to EPUB or PDF in an e-book program such as Calibre and drop that file.</source>
        <translation>请在 Calibre 等电子书程序中转换为 EPUB 或 PDF，再拖入该文件。</translation>
    </message>
    <message>
        <source>unpack it and drop the documents inside one at a time.</source>
        <translation>请先解压，再把其中的文档逐个拖入。</translation>
    </message>
    <message>
        <source>Pages {numbers} and {last}</source>
        <translation>第 {numbers} 和 {last} 页</translation>
    </message>
    <message>
        <source>Page {number}</source>
        <translation>第 {number} 页</translation>
    </message>
    <message>
        <source>Pages {numbers} and {rest} more</source>
        <translation>第 {numbers} 页及另外 {rest} 页</translation>
    </message>
    <message>
        <source>is not a PDF file (it has no PDF header)</source>
        <translation>不是 PDF 文件（没有 PDF 文件头）</translation>
    </message>
    <message>
        <source>has no pages</source>
        <translation>没有任何页面</translation>
    </message>
    <message>
        <source>“{name}” seems to be cut short (it has no end-of-file marker), so some pages may be missing; download or copy it again if they are.</source>
        <translation>“{name}”似乎不完整（没有文件结束标记），可能缺少部分页面；如有缺失，请重新下载或复制。</translation>
    </message>
    <message>
        <source>{pages} of “{name}” could not be read (the file is damaged there) and is left out; open the PDF in a viewer and save a fresh copy to include it.</source>
        <translation>“{name}”的{pages}无法读取（文件在该处已损坏），已略去；请在阅读器中打开 PDF 并另存新副本以包含它。</translation>
    </message>
    <message>
        <source>{pages} of “{name}” could not be read (the file is damaged there) and are left out; open the PDF in a viewer and save a fresh copy to include them.</source>
        <translation>“{name}”的{pages}无法读取（文件在这些地方已损坏），已略去；请在阅读器中打开 PDF 并另存新副本以包含它们。</translation>
    </message>
    <message>
        <source>{pages} of “{name}” has no text layer (probably scanned images), so the model will not see it; run OCR on the PDF to include it.</source>
        <translation>“{name}”的{pages}没有文字层（可能是扫描图像），模型看不到它；请对 PDF 进行 OCR 文字识别以包含它。</translation>
    </message>
    <message>
        <source>{pages} of “{name}” have no text layer (probably scanned images), so the model will not see them; run OCR on the PDF to include them.</source>
        <translation>“{name}”的{pages}没有文字层（可能是扫描图像），模型看不到它们；请对 PDF 进行 OCR 文字识别以包含它们。</translation>
    </message>
    <message>
        <source>permission denied</source>
        <translation>没有权限</translation>
    </message>
    <message>
        <source>“{name}” is not entirely valid text in a known encoding (read as {label}): {count} characters could not be decoded and are shown as �; if the text looks wrong, save the file as UTF-8 and drop it again.</source>
        <translation>“{name}”不完全是某种已知编码的有效文本（按 {label} 读取）：有 {count} 个字符无法解码，显示为 �；如果文本看起来不对，请把文件另存为 UTF-8 后重新拖入。</translation>
    </message>
    <message>
        <source>“{name}” could not be decoded as UTF-8 and was read as {label}, a guess from very few bytes; if some characters look wrong, save the file as UTF-8 and drop it again.</source>
        <translation>“{name}”无法按 UTF-8 解码，已按 {label} 读取，这是根据极少字节做出的猜测；如果有些字符看起来不对，请把文件另存为 UTF-8 后重新拖入。</translation>
    </message>
    <message>
        <source>“{name}” is not entirely valid text in a known encoding (read as {label}): 1 character could not be decoded and is shown as �; if the text looks wrong, save the file as UTF-8 and drop it again.</source>
        <translation>“{name}”不完全是某种已知编码的有效文本（按 {label} 读取）：有 1 个字符无法解码，显示为 �；如果文本看起来不对，请把文件另存为 UTF-8 后重新拖入。</translation>
    </message>
    <message>
        <source>The prompt needs {tokens} tokens but the context holds {n_ctx}.</source>
        <translation>提示需要 {tokens} 个词元，但上下文只能容纳 {n_ctx} 个。</translation>
    </message>
    <message>
        <source>Start a new conversation, remove the document, or load the model with a larger context.</source>
        <translation>请开始新的对话、移除文档，或以更大的上下文加载模型。</translation>
    </message>
    <message>
        <source>{share}; with the conversation, the question and room for a {answer}-token answer it needs {need} tokens, but {why}. Nothing was cut: choose what to do.</source>
        <translation>{share}；加上对话、问题和 {answer} 个词元的回答空间，共需要 {need} 个词元，但{why}。没有截断任何内容：请选择处理方式。</translation>
    </message>
    <message>
        <source>The document takes {tokens} tokens</source>
        <translation>文档占用 {tokens} 个词元</translation>
    </message>
    <message>
        <source>The conversation takes</source>
        <translation>对话占用</translation>
    </message>
    <message>
        <source>{share} of a {ctx}-token context ({percent}); with the conversation, the question and room for a {answer}-token answer it needs {need} tokens: it fits.</source>
        <translation>{share}，占 {ctx} 词元上下文的 {percent}；加上对话、问题和 {answer} 个词元的回答空间，共需要 {need} 个词元：放得下。</translation>
    </message>
    <message>
        <source>this machine&apos;s free {kind} ({free}) allows at most {most}</source>
        <translation>本机可用的{kind}（{free}）最多只允许 {most}</translation>
    </message>
    <message>
        <source>the app allows at most {most}</source>
        <translation>应用最多只允许 {most}</translation>
    </message>
    <message>
        <source> ({extra} more {kind}; {free} free)</source>
        <translation>（还需 {extra} {kind}；可用 {free}）</translation>
    </message>
    <message>
        <source> Positions past the model&apos;s trained {trained} tokens use its long-context (dynamic NTK) scaling.</source>
        <translation>超过模型训练长度 {trained} 个词元的位置会使用长上下文（动态 NTK）缩放。</translation>
    </message>
    <message>
        <source>{share} of a {ctx}-token context ({percent}); it needs {need} tokens in all, more than the {current} loaded now: the model will be reloaded with a context of {ctx} tokens{where}.{scaled}</source>
        <translation>{share}，占 {ctx} 词元上下文的 {percent}；共需要 {need} 个词元，超过当前加载的 {current}：模型将以 {ctx} 个词元的上下文重新加载{where}。{scaled}</translation>
    </message>
    <message>
        <source>{share} of a {ctx}-token context ({percent}); it needs {need} tokens in all: the model will be loaded with that context{where}.{scaled}</source>
        <translation>{share}，占 {ctx} 词元上下文的 {percent}；共需要 {need} 个词元：模型将以该上下文加载{where}。{scaled}</translation>
    </message>
    <message>
        <source> (at character {cut})</source>
        <translation>（在第 {cut} 个字符处）</translation>
    </message>
    <message>
        <source>Use a context of {ctx} tokens{where}.{scaled}</source>
        <translation>使用 {ctx} 个词元的上下文{where}。{scaled}</translation>
    </message>
    <message>
        <source>Cut the document after its first {keep} of {total} tokens{at}; the rest ({percent}) is left out.</source>
        <translation>在文档 {total} 个词元中的前 {keep} 个之后截断{at}；其余部分（{percent}）不读入。</translation>
    </message>
    <message>
        <source>Leave out the {count} oldest turns ({freed} tokens); the document stays whole.</source>
        <translation>略去最早的 {count} 轮对话（{freed} 个词元）；文档保持完整。</translation>
    </message>
    <message>
        <source>Leave out the oldest turn ({freed} tokens); the document stays whole.</source>
        <translation>略去最早的一轮对话（{freed} 个词元）；文档保持完整。</translation>
    </message>
    <message>
        <source>Apple&apos;s MPS GPU backend is not available on this computer.</source>
        <translation>这台电脑上无法使用 Apple 的 MPS GPU 后端。</translation>
    </message>
    <message>
        <source>Choose the CPU or the llama.cpp backend in Settings.</source>
        <translation>请在“设置”中选择 CPU 或 llama.cpp 后端。</translation>
    </message>
    <message>
        <source>No CUDA GPU can be used: {reason}.</source>
        <translation>无法使用 CUDA GPU：{reason}。</translation>
    </message>
    <message>
        <source>{name} is not a readable GGUF file: it is damaged or incomplete.</source>
        <translation>{name} 不是可读取的 GGUF 文件：文件已损坏或不完整。</translation>
    </message>
    <message>
        <source>Convert the model again or pick another file.</source>
        <translation>请重新转换模型，或选择另一个文件。</translation>
    </message>
    <message>
        <source>There is not enough memory to read a conversation of this length ({n_ctx}-token context).</source>
        <translation>内存不足，无法读取这么长的对话（上下文为 {n_ctx} 个词元）。</translation>
    </message>
    <message>
        <source>Close other programs, or load the model with a smaller context.</source>
        <translation>请关闭其他程序，或以更小的上下文加载模型。</translation>
    </message>
    <message>
        <source>There is no model file at {path}.</source>
        <translation>{path} 处没有模型文件。</translation>
    </message>
    <message>
        <source>Pick a .gguf file or convert a checkpoint first.</source>
        <translation>请选择一个 .gguf 文件，或先转换一个检查点。</translation>
    </message>
    <message>
        <source>Unknown KV cache type {kv_type!r}.</source>
        <translation>未知的 KV 缓存类型 {kv_type!r}。</translation>
    </message>
    <message>
        <source>Choose f16 or q8_0.</source>
        <translation>请选择 f16 或 q8_0。</translation>
    </message>
    <message>
        <source>llama.cpp could not set up its context again.</source>
        <translation>llama.cpp 无法重新建立它的上下文。</translation>
    </message>
    <message>
        <source>Load the model again.</source>
        <translation>请重新加载模型。</translation>
    </message>
    <message>
        <source>Could not save the model state to {path}.</source>
        <translation>无法将模型状态保存到 {path}。</translation>
    </message>
    <message>
        <source>Check the free disk space.</source>
        <translation>请检查磁盘剩余空间。</translation>
    </message>
    <message>
        <source>The saved model state {name} cannot be used.</source>
        <translation>保存的模型状态 {name} 无法使用。</translation>
    </message>
    <message>
        <source>The reading is done again from the start.</source>
        <translation>将从头重新读取。</translation>
    </message>
    <message>
        <source>llama.cpp could not load {name} with a context of {n_ctx} tokens.</source>
        <translation>llama.cpp 无法以 {n_ctx} 个词元的上下文加载 {name}。</translation>
    </message>
    <message>
        <source>The file may be damaged or not a GGUF; convert the model again, or choose a smaller context.</source>
        <translation>该文件可能已损坏或不是 GGUF 文件；请重新转换模型，或选择更小的上下文。</translation>
    </message>
    <message>
        <source>llama.cpp failed while computing.</source>
        <translation>llama.cpp 在计算时出错。</translation>
    </message>
    <message>
        <source>Try again; if it keeps failing, load the model again.</source>
        <translation>请重试；如果一直失败，请重新加载模型。</translation>
    </message>
    <message>
        <source>llama.cpp found no room in its KV cache for these tokens.</source>
        <translation>llama.cpp 的 KV 缓存中没有空间容纳这些词元。</translation>
    </message>
    <message>
        <source>Use a larger context or a shorter conversation.</source>
        <translation>请使用更大的上下文或更短的对话。</translation>
    </message>
    <message>
        <source>This computer&apos;s processor lacks the instructions the llama.cpp backend needs (AVX2).</source>
        <translation>这台电脑的处理器缺少 llama.cpp 后端所需的指令（AVX2）。</translation>
    </message>
    <message>
        <source>Choose the PyTorch backend in Settings.</source>
        <translation>请在“设置”中选择 PyTorch 后端。</translation>
    </message>
    <message>
        <source>This build of the llama.cpp backend needs CPU instructions this computer lacks ({missing}).</source>
        <translation>此版本的 llama.cpp 后端需要这台电脑所缺少的 CPU 指令（{missing}）。</translation>
    </message>
    <message>
        <source>Rebuild llama-cpp-python for this CPU (scripts/llama_wheel.sh with INTERNLM2_LLAMA_CMAKE_ARGS) or use the PyTorch backend.</source>
        <translation>请为这颗 CPU 重新构建 llama-cpp-python（使用 scripts/llama_wheel.sh 和 INTERNLM2_LLAMA_CMAKE_ARGS），或使用 PyTorch 后端。</translation>
    </message>
    <message>
        <source>The llama.cpp backend is not installed (llama-cpp-python is missing).</source>
        <translation>未安装 llama.cpp 后端（缺少 llama-cpp-python）。</translation>
    </message>
    <message>
        <source>Reinstall the app, or choose the PyTorch backend in Settings.</source>
        <translation>请重新安装本应用，或在“设置”中选择 PyTorch 后端。</translation>
    </message>
    <message>
        <source>There is no model at {path}.</source>
        <translation>{path} 处没有模型。</translation>
    </message>
    <message>
        <source>Pick a .gguf file or a checkpoint folder.</source>
        <translation>请选择一个 .gguf 文件或检查点文件夹。</translation>
    </message>
    <message>
        <source>Unknown backend {backend!r}.</source>
        <translation>未知的后端 {backend!r}。</translation>
    </message>
    <message>
        <source>Choose torch or llamacpp.</source>
        <translation>请选择 torch 或 llamacpp。</translation>
    </message>
    <message>
        <source>{name} is a checkpoint folder; the llama.cpp backend needs a GGUF file.</source>
        <translation>{name} 是检查点文件夹；llama.cpp 后端需要 GGUF 文件。</translation>
    </message>
    <message>
        <source>Convert it first: python main.py convert {path} model.gguf</source>
        <translation>请先转换：python main.py convert {path} model.gguf</translation>
    </message>
    <message>
        <source>{name} is a GGUF file; the PyTorch backend needs the checkpoint folder.</source>
        <translation>{name} 是 GGUF 文件；PyTorch 后端需要检查点文件夹。</translation>
    </message>
    <message>
        <source>Pick the model&apos;s folder, or use the llama.cpp backend.</source>
        <translation>请选择模型的文件夹，或使用 llama.cpp 后端。</translation>
    </message>
    <message>
        <source>The PyTorch backend is not installed (torch and transformers are missing).</source>
        <translation>未安装 PyTorch 后端（缺少 torch 和 transformers）。</translation>
    </message>
    <message>
        <source>Install the app with its [torch] extra, or convert the model to GGUF for the llama.cpp backend.</source>
        <translation>请安装带 [torch] 附加组件的应用，或将模型转换为 GGUF 以使用 llama.cpp 后端。</translation>
    </message>
    <message>
        <source>The model failed while computing.</source>
        <translation>模型在计算时出错。</translation>
    </message>
    <message>
        <source>{device} ran out of memory while reading {tokens} tokens.</source>
        <translation>{device} 在读取 {tokens} 个词元时内存不足。</translation>
    </message>
    <message>
        <source>Use a shorter context (remove the document or older turns) or the llama.cpp backend.</source>
        <translation>请使用更短的上下文（移除文档或较早的对话轮次），或使用 llama.cpp 后端。</translation>
    </message>
    <message>
        <source>{device} does not have enough free memory for this model.</source>
        <translation>{device} 没有足够的可用内存来加载这个模型。</translation>
    </message>
    <message>
        <source>Close other programs using the GPU, or use the llama.cpp (GGUF) backend.</source>
        <translation>请关闭其他正在使用 GPU 的程序，或使用 llama.cpp（GGUF）后端。</translation>
    </message>
    <message>
        <source>revision</source>
        <translation>版本</translation>
    </message>
    <message>
        <source>path outside the cache</source>
        <translation>缓存之外的路径</translation>
    </message>
    <message>
        <source>None of the model sources answered.</source>
        <translation>没有任何模型来源作出回应。</translation>
    </message>
    <message>
        <source>Check your internet connection, or set a mirror address in Settings if the hubs are blocked where you are.</source>
        <translation>请检查网络连接；如果你所在的地方无法访问这些模型中心，请在“设置”中设置镜像地址。</translation>
    </message>
    <message>
        <source>The catalog does not list {model} on {source}.</source>
        <translation>目录中没有列出 {source} 上的 {model}。</translation>
    </message>
    <message>
        <source>Choose one of: {choices}.</source>
        <translation>请从以下选项中选择一个：{choices}。</translation>
    </message>
    <message>
        <source>commit id (not the one asked for)</source>
        <translation>提交 ID（不是所请求的那个）</translation>
    </message>
    <message>
        <source>Free up {missing} or choose another folder.</source>
        <translation>请释放 {missing} 的空间，或选择其他文件夹。</translation>
    </message>
    <message>
        <source>Could not reach the model hub at {endpoint} through the proxy {proxy}.</source>
        <translation>无法通过代理 {proxy} 连接到 {endpoint} 的模型仓库。</translation>
    </message>
    <message>
        <source>Check the proxy setting and that the proxy is running.</source>
        <translation>请检查代理设置，并确认代理正在运行。</translation>
    </message>
    <message>
        <source>Could not reach the model hub at {endpoint}.</source>
        <translation>无法连接到 {endpoint} 的模型仓库。</translation>
    </message>
    <message>
        <source>Check your internet connection, or set a mirror address in Settings &gt; Downloads if the hub is blocked where you are.</source>
        <translation>请检查网络连接；如果所在地区无法访问该仓库，请在“设置 &gt; 下载”中设置镜像地址。</translation>
    </message>
    <message>
        <source>The model hub at {endpoint} gave an error (HTTP {status}) for {filename}.</source>
        <translation>{endpoint} 的模型仓库在获取 {filename} 时返回了错误（HTTP {status}）。</translation>
    </message>
    <message>
        <source>The model hub at {endpoint} gave an unexpected answer for {filename}.</source>
        <translation>{endpoint} 的模型仓库在获取 {filename} 时返回了意外的响应。</translation>
    </message>
    <message>
        <source>The hub may be having trouble: try again in a few minutes.</source>
        <translation>模型仓库可能暂时出现问题：请几分钟后再试。</translation>
    </message>
    <message>
        <source>The model hub has no file {filename!r} in {repo} at revision {revision!r} (HTTP 404).</source>
        <translation>模型仓库中 {repo} 的版本 {revision!r} 里没有文件 {filename!r}（HTTP 404）。</translation>
    </message>
    <message>
        <source>The model catalog may be out of date, or the mirror in Settings &gt; Downloads may not carry this model.</source>
        <translation>模型目录可能已过时，或“设置 &gt; 下载”中的镜像没有这个模型。</translation>
    </message>
    <message>
        <source>The model hub refused access to {repo} (HTTP {status}).</source>
        <translation>模型仓库拒绝访问 {repo}（HTTP {status}）。</translation>
    </message>
    <message>
        <source>The model hub refused access to {repo}.</source>
        <translation>模型仓库拒绝访问 {repo}。</translation>
    </message>
    <message>
        <source>Log in with `hf auth login` if the model needs an account, or check the mirror in Settings &gt; Downloads.</source>
        <translation>如果该模型需要账号，请用 `hf auth login` 登录；或检查“设置 &gt; 下载”中的镜像。</translation>
    </message>
    <message>
        <source>The downloaded {filename} is damaged (expected {expected}, got {actual}); it was kept aside as {kept_at}.</source>
        <translation>下载的 {filename} 已损坏（应为 {expected}，实际为 {actual}）；它已另存为 {kept_at}。</translation>
    </message>
    <message>
        <source>Download it again (the kept copy is removed once the file downloads correctly); if it fails again, check the disk and the mirror in Settings &gt; Downloads.</source>
        <translation>请重新下载（文件下载正确后，保留的副本会被删除）；如果再次失败，请检查磁盘以及“设置 &gt; 下载”中的镜像。</translation>
    </message>
    <message>
        <source>Not enough disk space in {path}: {needed} needed ({detail}) but only {free} free.</source>
        <translation>{path} 的磁盘空间不足：需要 {needed}（{detail}），但只有 {free} 可用。</translation>
    </message>
    <message>
        <source>Not enough disk space in {path}: {needed} needed but only {free} free.</source>
        <translation>{path} 的磁盘空间不足：需要 {needed}，但只有 {free} 可用。</translation>
    </message>
    <message>
        <source>Free up {missing} (damaged downloads kept aside in {folder} hold {kept} and can be deleted) or choose another folder.</source>
        <translation>请释放 {missing} 的空间（{folder} 中保留的损坏下载占用 {kept}，可以删除），或选择其他文件夹。</translation>
    </message>
    <message>
        <source>Offline mode is on (HF_HUB_OFFLINE=1) and {model} is not fully downloaded (missing: {missing}).</source>
        <translation>离线模式已开启（HF_HUB_OFFLINE=1），而 {model} 尚未完整下载（缺少：{missing}）。</translation>
    </message>
    <message>
        <source>Turn offline mode off to download it, or copy the model into {cache_dir}.</source>
        <translation>请关闭离线模式后下载，或把模型复制到 {cache_dir}。</translation>
    </message>
    <message>
        <source>Could not write the download to {path}.</source>
        <translation>无法把下载内容写入 {path}。</translation>
    </message>
    <message>
        <source>Check that the disk has room and is writable; the download resumes when you try again.</source>
        <translation>请确认磁盘有空间且可写；再次尝试时会从中断处继续下载。</translation>
    </message>
    <message>
        <source>The model hub address {endpoint!r} is not a web address.</source>
        <translation>模型仓库地址 {endpoint!r} 不是网址。</translation>
    </message>
    <message>
        <source>Enter a full address such as https://huggingface.co or your mirror&apos;s https:// address in Settings &gt; Downloads.</source>
        <translation>请在“设置 &gt; 下载”中输入完整地址，例如 https://huggingface.co 或镜像的 https:// 地址。</translation>
    </message>
    <message>
        <source>The download of {model} was cancelled.</source>
        <translation>{model} 的下载已取消。</translation>
    </message>
    <message>
        <source>The part already downloaded is kept; downloading again resumes from there.</source>
        <translation>已下载的部分会保留；再次下载时从那里继续。</translation>
    </message>
    <message>
        <source>The model hub has no revision {revision!r} of {repo} (HTTP 404).</source>
        <translation>模型仓库中没有 {repo} 的版本 {revision!r}（HTTP 404）。</translation>
    </message>
    <message>
        <source>The model hub has no repository {repo} (HTTP 404).</source>
        <translation>模型仓库中没有仓库 {repo}（HTTP 404）。</translation>
    </message>
    <message>
        <source>There is no model {key!r} in the catalog.</source>
        <translation>目录中没有模型 {key!r}。</translation>
    </message>
    <message>
        <source>There is nothing at {path}.</source>
        <translation>{path} 处什么也没有。</translation>
    </message>
    <message>
        <source>Pick a checkpoint folder or a .gguf file.</source>
        <translation>请选择一个检查点文件夹或 .gguf 文件。</translation>
    </message>
    <message>
        <source>Unknown GGUF type {type!r}.</source>
        <translation>未知的 GGUF 类型 {type!r}。</translation>
    </message>
    <message>
        <source>Unknown source {source!r}.</source>
        <translation>未知的来源 {source!r}。</translation>
    </message>
    <message>
        <source>{model} is not downloaded yet.</source>
        <translation>{model} 尚未下载。</translation>
    </message>
    <message>
        <source>Download it first: python main.py download {id}</source>
        <translation>请先下载：python main.py download {id}</translation>
    </message>
    <message>
        <source>{path} is not a GGUF converted by this app, so it is not deleted.</source>
        <translation>{path} 不是本应用转换的 GGUF，因此不会删除它。</translation>
    </message>
    <message>
        <source>Remove it from the list instead, or delete it in your file manager.</source>
        <translation>请改为从列表中移除它，或在文件管理器中删除它。</translation>
    </message>
    <message>
        <source>{name} is a GGUF of a {arch!r} model, not InternLM2.</source>
        <translation>{name} 是 {arch!r} 模型的 GGUF，而不是 InternLM2。</translation>
    </message>
    <message>
        <source>Pick a GGUF converted from an InternLM2 model.</source>
        <translation>请选择由 InternLM2 模型转换而来的 GGUF。</translation>
    </message>
    <message>
        <source>The model hub at {address}</source>
        <translation>位于 {address} 的模型中心</translation>
    </message>
    <message>
        <source>The catalog</source>
        <translation>目录</translation>
    </message>
    <message>
        <source>The catalog entry of {model}</source>
        <translation>目录中 {model} 的条目</translation>
    </message>
    <message>
        <source>The folder {path}</source>
        <translation>文件夹 {path}</translation>
    </message>
    <message>
        <source>The model hub</source>
        <translation>模型中心</translation>
    </message>
    <message>
        <source>{source} gave an unusable {what} {value} for {filename}, so the download was stopped before anything was written.</source>
        <translation>{source} 为 {filename} 给出了不可用的{what} {value}，因此下载在写入任何内容之前已停止。</translation>
    </message>
    <message>
        <source>{source} gave an unusable {what} {value}, so the download was stopped before anything was written.</source>
        <translation>{source} 给出了不可用的{what} {value}，因此下载在写入任何内容之前已停止。</translation>
    </message>
    <message>
        <source>The hub or mirror may be misconfigured: try again later or choose another source.</source>
        <translation>模型中心或镜像可能配置有误：请稍后重试，或选择另一个来源。</translation>
    </message>
    <message>
        <source>commit id</source>
        <translation>提交 ID</translation>
    </message>
    <message>
        <source>file hash (ETag)</source>
        <translation>文件哈希（ETag）</translation>
    </message>
    <message>
        <source>file size</source>
        <translation>文件大小</translation>
    </message>
    <message>
        <source>file name</source>
        <translation>文件名</translation>
    </message>
    <message>
        <source>repository id</source>
        <translation>仓库 ID</translation>
    </message>
    <message>
        <source>download address</source>
        <translation>下载地址</translation>
    </message>
    <message>
        <source>the file list</source>
        <translation>文件列表</translation>
    </message>
    <message>
        <source>LFS pointer</source>
        <translation>LFS 指针</translation>
    </message>
    <message>
        <source>commit id (not the one of the other files)</source>
        <translation>提交 ID（与其他文件的不同）</translation>
    </message>
    <message>
        <source>file hash (Sha256)</source>
        <translation>文件哈希（Sha256）</translation>
    </message>
    <message>
        <source>the revision</source>
        <translation>版本</translation>
    </message>
    <message>
        <source>git blob id</source>
        <translation>git blob ID</translation>
    </message>
    <message>
        <source>No weights (*.safetensors) in {folder}.</source>
        <translation>{folder} 中没有权重文件（*.safetensors）。</translation>
    </message>
    <message>
        <source>Pick the folder that holds the model&apos;s safetensors files.</source>
        <translation>请选择存放模型 safetensors 文件的文件夹。</translation>
    </message>
    <message>
        <source>{folder} holds only pytorch_model.bin, which the app does not load.</source>
        <translation>{folder} 中只有 pytorch_model.bin，本应用不加载这种文件。</translation>
    </message>
    <message>
        <source>Download the safetensors files of the model.</source>
        <translation>请下载该模型的 safetensors 文件。</translation>
    </message>
    <message>
        <source>{folder} is not a folder.</source>
        <translation>{folder} 不是文件夹。</translation>
    </message>
    <message>
        <source>Pick the folder that holds config.json and the safetensors files.</source>
        <translation>请选择存放 config.json 和 safetensors 文件的文件夹。</translation>
    </message>
    <message>
        <source>tokenizer.model is missing from {folder}.</source>
        <translation>{folder} 中缺少 tokenizer.model。</translation>
    </message>
    <message>
        <source>Download the model again: the tokenizer file is required.</source>
        <translation>请重新下载模型：分词器文件是必需的。</translation>
    </message>
    <message>
        <source>The files are incomplete or not InternLM2; download the model again.</source>
        <translation>这些文件不完整或不是 InternLM2；请重新下载模型。</translation>
    </message>
    <message>
        <source>It does not match its config.json; pick an official InternLM2 checkpoint.</source>
        <translation>它与自己的 config.json 不符；请选择官方的 InternLM2 检查点。</translation>
    </message>
    <message>
        <source>Weight file {name} is missing from {folder}.</source>
        <translation>{folder} 中缺少权重文件 {name}。</translation>
    </message>
    <message>
        <source>The download is incomplete; download the model again.</source>
        <translation>下载不完整；请重新下载模型。</translation>
    </message>
    <message>
        <source>The checkpoint lacks tensor {name} and {more} more.</source>
        <translation>检查点缺少张量 {name} 以及另外 {more} 个。</translation>
    </message>
    <message>
        <source>The checkpoint lacks tensor {name}.</source>
        <translation>检查点缺少张量 {name}。</translation>
    </message>
    <message>
        <source>The checkpoint has an unexpected tensor {name} and {more} more.</source>
        <translation>检查点含有意外的张量 {name} 以及另外 {more} 个。</translation>
    </message>
    <message>
        <source>The checkpoint has an unexpected tensor {name}.</source>
        <translation>检查点含有意外的张量 {name}。</translation>
    </message>
    <message>
        <source>Tensor {name} does not have the shape its config.json implies.</source>
        <translation>张量 {name} 的形状与 config.json 所规定的不符。</translation>
    </message>
    <message>
        <source>The weights do not match config.json; download the model again.</source>
        <translation>权重与 config.json 不符；请重新下载模型。</translation>
    </message>
    <message>
        <source>{index} in {folder} is damaged.</source>
        <translation>{folder} 中的 {index} 已损坏。</translation>
    </message>
    <message>
        <source>Download the model again.</source>
        <translation>请重新下载模型。</translation>
    </message>
    <message>
        <source>{name} in {folder} is not a JSON object.</source>
        <translation>{folder} 中的 {name} 不是 JSON 对象。</translation>
    </message>
    <message>
        <source>config.json has no valid &apos;{key}&apos;.</source>
        <translation>config.json 中没有有效的 &apos;{key}&apos;。</translation>
    </message>
    <message>
        <source>Pick an official InternLM2 checkpoint.</source>
        <translation>请选择官方的 InternLM2 检查点。</translation>
    </message>
    <message>
        <source>This is not an InternLM2 checkpoint (architecture: {found}).</source>
        <translation>这不是 InternLM2 检查点（架构：{found}）。</translation>
    </message>
    <message>
        <source>Pick a folder with an InternLM2-1.8B model.</source>
        <translation>请选择存放 InternLM2-1.8B 模型的文件夹。</translation>
    </message>
    <message>
        <source>This InternLM2 checkpoint uses bias=true, which the InternLM2-1.8B models never do.</source>
        <translation>这个 InternLM2 检查点使用了 bias=true，而 InternLM2-1.8B 模型从不这样。</translation>
    </message>
    <message>
        <source>Pick an official InternLM2-1.8B checkpoint.</source>
        <translation>请选择官方的 InternLM2-1.8B 检查点。</translation>
    </message>
    <message>
        <source>config.json has inconsistent attention heads.</source>
        <translation>config.json 中的注意力头数量互相矛盾。</translation>
    </message>
    <message>
        <source>config.json has an unreadable rope_scaling.</source>
        <translation>config.json 中的 rope_scaling 无法读取。</translation>
    </message>
    <message>
        <source>{name} is missing from {folder}.</source>
        <translation>{folder} 中缺少 {name}。</translation>
    </message>
    <message>
        <source>Download the model again or pick the folder that holds config.json.</source>
        <translation>请重新下载模型，或选择存放 config.json 的文件夹。</translation>
    </message>
    <message>
        <source>{name} in {folder} cannot be read.</source>
        <translation>无法读取 {folder} 中的 {name}。</translation>
    </message>
    <message>
        <source>The conversion was cancelled.</source>
        <translation>转换已取消。</translation>
    </message>
    <message>
        <source>Not enough disk space in {folder}: the conversion needs {needed} GB, {free} GB are free.</source>
        <translation>{folder} 的磁盘空间不足：转换需要 {needed} GB，但只有 {free} GB 可用。</translation>
    </message>
    <message>
        <source>Free some space or pick another folder for the GGUF file.</source>
        <translation>请释放一些空间，或为 GGUF 文件选择另一个文件夹。</translation>
    </message>
    <message>
        <source>Unknown GGUF type &apos;{type}&apos;.</source>
        <translation>未知的 GGUF 类型 &apos;{type}&apos;。</translation>
    </message>
    <message>
        <source>{path} is a folder.</source>
        <translation>{path} 是一个文件夹。</translation>
    </message>
    <message>
        <source>Give a file name for the GGUF, e.g. model.gguf.</source>
        <translation>请为 GGUF 给出一个文件名，例如 model.gguf。</translation>
    </message>
    <message>
        <source>Cannot create the folder {folder}.</source>
        <translation>无法创建文件夹 {folder}。</translation>
    </message>
    <message>
        <source>Pick another place for the GGUF file.</source>
        <translation>请为 GGUF 文件选择另一个位置。</translation>
    </message>
    <message>
        <source>Writing {path} failed.</source>
        <translation>写入 {path} 失败。</translation>
    </message>
    <message>
        <source>Check that the folder is writable and has free space.</source>
        <translation>请检查该文件夹是否可写并且有可用空间。</translation>
    </message>
    <message>
        <source>{type} is not a llama.cpp K-quant type.</source>
        <translation>{type} 不是 llama.cpp 的 K-quant 类型。</translation>
    </message>
    <message>
        <source>llama-cpp-python is not installed, so K-quants cannot be made.</source>
        <translation>未安装 llama-cpp-python，因此无法生成 K-quant。</translation>
    </message>
    <message>
        <source>Install llama-cpp-python or choose f16, bf16 or q8_0.</source>
        <translation>请安装 llama-cpp-python，或选择 f16、bf16 或 q8_0。</translation>
    </message>
    <message>
        <source>Try another type such as q8_0 or f16.</source>
        <translation>请尝试其他类型，例如 q8_0 或 f16。</translation>
    </message>
    <message>
        <source>llama.cpp&apos;s quantizer crashed.</source>
        <translation>llama.cpp 的量化程序崩溃了。</translation>
    </message>
    <message>
        <source>llama.cpp&apos;s quantizer failed.</source>
        <translation>llama.cpp 的量化程序失败了。</translation>
    </message>
    <message>
        <source>tokenizer.model has {pieces} pieces but the model only {embeddings} embeddings.</source>
        <translation>tokenizer.model 有 {pieces} 个词片，但模型只有 {embeddings} 个嵌入。</translation>
    </message>
    <message>
        <source>The tokenizer does not belong to these weights; download the model again.</source>
        <translation>该分词器与这些权重不匹配；请重新下载模型。</translation>
    </message>
    <message>
        <source>{name} cannot be read.</source>
        <translation>无法读取 {name}。</translation>
    </message>
    <message>
        <source>{path} is not a SentencePiece tokenizer.</source>
        <translation>{path} 不是 SentencePiece 分词器。</translation>
    </message>
    <message>
        <source>Special token {name} has id {id}, outside the vocabulary of {n}.</source>
        <translation>特殊词元 {name} 的 ID 为 {id}，超出了大小为 {n} 的词表。</translation>
    </message>
    <message>
        <source>Check that the file is still there and readable.</source>
        <translation>请检查该文件是否仍然存在并且可读。</translation>
    </message>
    <message>
        <source>{name} has a damaged header.</source>
        <translation>{name} 的文件头已损坏。</translation>
    </message>
    <message>
        <source>Tensor {tensor} in {name} has an unsupported data type {dtype}.</source>
        <translation>{name} 中的张量 {tensor} 使用了不受支持的数据类型 {dtype}。</translation>
    </message>
    <message>
        <source>Tensor {tensor} in {name} has a size that does not match its shape.</source>
        <translation>{name} 中的张量 {tensor} 的大小与其形状不符。</translation>
    </message>
    <message>
        <source>The file is damaged; download the model again.</source>
        <translation>文件已损坏；请重新下载模型。</translation>
    </message>
    <message>
        <source>{name} is truncated: tensor {tensor} ends past the end of the file.</source>
        <translation>{name} 不完整：张量 {tensor} 超出了文件末尾。</translation>
    </message>
    <message>
        <source>The download was probably cut; download the model again.</source>
        <translation>下载可能被中断了；请重新下载模型。</translation>
    </message>
    <message>
        <source>{name} is truncated (only {size} bytes).</source>
        <translation>{name} 不完整（只有 {size} 字节）。</translation>
    </message>
    <message>
        <source>{name} is not a valid safetensors file or is truncated.</source>
        <translation>{name} 不是有效的 safetensors 文件，或者不完整。</translation>
    </message>
    <message>
        <source>{name} ended early while reading {tensor}.</source>
        <translation>读取 {tensor} 时 {name} 提前结束。</translation>
    </message>
    <message>
        <source>The file is truncated; download the model again.</source>
        <translation>文件不完整；请重新下载模型。</translation>
    </message>
    <message>
        <source>The tokenizer has no special token {name}.</source>
        <translation>分词器中没有特殊词元 {name}。</translation>
    </message>
    <message>
        <source>Pick an InternLM2 chat checkpoint.</source>
        <translation>请选择 InternLM2 对话模型的检查点。</translation>
    </message>
    <message>
        <source>The tokenizer cannot be loaded.</source>
        <translation>无法加载分词器。</translation>
    </message>
    <message>
        <source>{host} is not an IP address.</source>
        <translation>{host} 不是 IP 地址。</translation>
    </message>
    <message>
        <source>Use --host 127.0.0.1 (this computer only) or an address of this computer.</source>
        <translation>请使用 --host 127.0.0.1（仅限本机）或这台电脑的某个地址。</translation>
    </message>
    <message>
        <source>Cannot listen on {host}:{port}.</source>
        <translation>无法在 {host}:{port} 上监听。</translation>
    </message>
    <message>
        <source>Check the address with --host, or choose another --port.</source>
        <translation>请检查 --host 给出的地址，或选择另一个 --port。</translation>
    </message>
    <message>
        <source>Port {port} on {host} is already in use or not allowed.</source>
        <translation>{host} 上的端口 {port} 已被占用或不允许使用。</translation>
    </message>
    <message>
        <source>Choose another with --port, or stop the program that uses it.</source>
        <translation>请用 --port 选择另一个端口，或停止正在使用它的程序。</translation>
    </message>
    <message>
        <source>The local server did not start.</source>
        <translation>本地服务器没有启动。</translation>
    </message>
    <message>
        <source>Try again; the log file says what stopped it.</source>
        <translation>请重试；日志文件中记录了它停止的原因。</translation>
    </message>
    <message>
        <source>it was opened read-only</source>
        <translation>它是以只读方式打开的</translation>
    </message>
    <message>
        <source>{reason}, so it cannot be created</source>
        <translation>{reason}，因此无法创建它</translation>
    </message>
    <message>
        <source>its folder cannot be made: {reason}</source>
        <translation>无法创建它所在的文件夹：{reason}</translation>
    </message>
    <message>
        <source>{reason}, and it needs an upgrade to this version&apos;s schema</source>
        <translation>{reason}，而它需要升级到此版本的数据结构</translation>
    </message>
    <message>
        <source>The conversation database {path} is damaged and cannot be opened.</source>
        <translation>对话数据库 {path} 已损坏，无法打开。</translation>
    </message>
    <message>
        <source>Start a fresh database: the damaged file is kept beside it, renamed with the date, for a recovery attempt.</source>
        <translation>请新建一个数据库：损坏的文件会以日期重命名后保留在旁边，以便尝试恢复。</translation>
    </message>
    <message>
        <source>The conversation database {path} was written by InternLM2 Desktop {version}, a newer version (schema {found}; this version reads up to {supported}).</source>
        <translation>对话数据库 {path} 由更新的 InternLM2 Desktop {version} 写入（结构版本 {found}；当前版本最多支持 {supported}）。</translation>
    </message>
    <message>
        <source>The conversation database {path} was written by a newer InternLM2 Desktop (schema {found}; this version reads up to {supported}).</source>
        <translation>对话数据库 {path} 由更新版本的 InternLM2 Desktop 写入（结构版本 {found}；当前版本最多支持 {supported}）。</translation>
    </message>
    <message>
        <source>Update the app to open it; the file has not been changed.</source>
        <translation>请更新应用后再打开；文件没有被改动。</translation>
    </message>
    <message>
        <source>{path} is not an InternLM2 Desktop conversation database.</source>
        <translation>{path} 不是 InternLM2 Desktop 的对话数据库。</translation>
    </message>
    <message>
        <source>Choose another file name for the conversations; this one has not been changed.</source>
        <translation>请为对话选择其他文件名；这个文件没有被改动。</translation>
    </message>
    <message>
        <source>Another program is using the conversation database {path} (it kept the file locked for more than {seconds} seconds).</source>
        <translation>另一个程序正在使用对话数据库 {path}（它锁定该文件已超过 {seconds} 秒）。</translation>
    </message>
    <message>
        <source>Close the other program or the other copy of InternLM2 Desktop, then try again; the file has not been changed.</source>
        <translation>请关闭那个程序或另一个 InternLM2 Desktop 窗口，然后重试；文件没有被改动。</translation>
    </message>
    <message>
        <source>The conversation database {path} is read-only ({reason}), so new messages and changes cannot be saved.</source>
        <translation>对话数据库 {path} 是只读的（{reason}），因此无法保存新消息和修改。</translation>
    </message>
    <message>
        <source>Conversations can still be read and exported. To save again, make the file and its folder writable, or start with --db and a writable file, then restart.</source>
        <translation>对话仍可阅读和导出。如需重新保存，请让该文件及其文件夹可写，或用 --db 指定一个可写的文件，然后重新启动。</translation>
    </message>
    <message>
        <source>The search index of the conversation database {path} was damaged and has been rebuilt from the messages.</source>
        <translation>对话数据库 {path} 的搜索索引已损坏，已根据消息重新建立。</translation>
    </message>
    <message>
        <source>Nothing was saved by the last action; please do it again.</source>
        <translation>上一次操作没有保存任何内容；请再做一次。</translation>
    </message>
    <message>
        <source>The search index of the conversation database {path} is damaged and could not be rebuilt.</source>
        <translation>对话数据库 {path} 的搜索索引已损坏，且无法重建。</translation>
    </message>
    <message>
        <source>Your messages are kept; please report this problem and keep the file.</source>
        <translation>你的消息都还在；请报告这个问题并保留该文件。</translation>
    </message>
    <message>
        <source>The conversation database {path} cannot be used right now ({reason}).</source>
        <translation>对话数据库 {path} 暂时无法使用（{reason}）。</translation>
    </message>
    <message>
        <source>Check that the folder is writable and that the disk has free space, or start with --db and another file, then try again.</source>
        <translation>请确认文件夹可写且磁盘有剩余空间，或用 --db 指定另一个文件，然后重试。</translation>
    </message>
    <message>
        <source>The conversation database {path} could not be upgraded from schema {start} to {target} ({reason}).</source>
        <translation>对话数据库 {path} 无法从结构版本 {start} 升级到 {target}（{reason}）。</translation>
    </message>
    <message>
        <source>The file was left unchanged; please report this problem and keep the file.</source>
        <translation>文件保持原样未被改动；请报告这个问题并保留该文件。</translation>
    </message>
    <message>
        <source>This file cannot be imported as a conversation: {reason}.</source>
        <translation>无法把这个文件作为对话导入：{reason}。</translation>
    </message>
    <message>
        <source>Choose a JSON file exported by InternLM2 Desktop.</source>
        <translation>请选择由 InternLM2 Desktop 导出的 JSON 文件。</translation>
    </message>
    <message>
        <source>the field &apos;{key}&apos; has the wrong type</source>
        <translation>字段 &apos;{key}&apos; 的类型不对</translation>
    </message>
    <message>
        <source>it is not an InternLM2 Desktop conversation export</source>
        <translation>它不是 InternLM2 Desktop 导出的对话</translation>
    </message>
    <message>
        <source>it was exported by a newer version of the app (format {version}); update the app to import it</source>
        <translation>它是由更新版本的应用导出的（格式 {version}）；请更新应用后再导入</translation>
    </message>
    <message>
        <source>the field &apos;{key}&apos; does not name an earlier message</source>
        <translation>字段“{key}”指向的不是更早的消息</translation>
    </message>
    <message>
        <source>a message is not an object</source>
        <translation>其中一条消息不是对象</translation>
    </message>
    <message>
        <source>the field &apos;{key}&apos; is too large</source>
        <translation>字段“{key}”太大</translation>
    </message>
    <message>
        <source>a document is not an object</source>
        <translation>其中一个文档不是对象</translation>
    </message>
    <message>
        <source>the field &apos;{key}&apos; is missing</source>
        <translation>缺少字段 &apos;{key}&apos;</translation>
    </message>
    <message>
        <source>the field &apos;{key}&apos; is not a date</source>
        <translation>字段 &apos;{key}&apos; 不是日期</translation>
    </message>
    <message>
        <source>a message has an unknown role or state</source>
        <translation>其中一条消息的角色或状态未知</translation>
    </message>
    <message>
        <source>the field &apos;{key}&apos; is not a list of token numbers</source>
        <translation>字段 &apos;{key}&apos; 不是词元编号的列表</translation>
    </message>
    <message>
        <source>the field &apos;{key}&apos; holds a number JSON cannot store</source>
        <translation>字段“{key}”包含 JSON 无法保存的数字</translation>
    </message>
    <message>
        <source>it is not valid JSON</source>
        <translation>它不是有效的 JSON</translation>
    </message>
    <message>
        <source>the file is write-protected</source>
        <translation>该文件受写保护</translation>
    </message>
    <message>
        <source>its folder {folder} is write-protected</source>
        <translation>它所在的文件夹 {folder} 受写保护</translation>
    </message>
    <message>
        <source>{name} is too large to be an exported conversation.</source>
        <translation>{name} 太大，不可能是导出的对话。</translation>
    </message>
    <message>
        <source>Choose a .json file written by Export conversation.</source>
        <translation>请选择由“导出对话”生成的 .json 文件。</translation>
    </message>
    <message>
        <source>Could not read {path}.</source>
        <translation>无法读取 {path}。</translation>
    </message>
    <message>
        <source>Check that the file is still there and that you may read it.</source>
        <translation>请检查文件是否还在，以及你是否有权读取它。</translation>
    </message>
    <message>
        <source>Something went wrong ({what}). The details are in the log file.</source>
        <translation>出现了问题（{what}）。详细信息见日志文件。</translation>
    </message>
    <message>
        <source>The file could not be used: {reason}{where}.</source>
        <translation>无法使用该文件：{reason}{where}。</translation>
    </message>
    <message>
        <source>{name} could not be loaded: the file looks damaged or incomplete.</source>
        <translation>无法加载 {name}：文件似乎已损坏或不完整。</translation>
    </message>
    <message>
        <source>Convert or download it again, or open another model.</source>
        <translation>请重新转换或下载，或打开另一个模型。</translation>
    </message>
    <message>
        <source>The computer ran out of memory.</source>
        <translation>计算机内存不足。</translation>
    </message>
    <message>
        <source>Close other programs or use a shorter context.</source>
        <translation>请关闭其他程序，或使用更短的上下文。</translation>
    </message>
    <message>
        <source>The job stopped because of an unexpected error.</source>
        <translation>任务因意外错误而停止。</translation>
    </message>
    <message>
        <source>There is no conversation database at {path}.</source>
        <translation>在 {path} 没有对话数据库。</translation>
    </message>
    <message>
        <source>Give its path with --db PATH (the window&apos;s --db, if it was started with one).</source>
        <translation>用 --db PATH 指定它的路径（如果窗口启动时用了 --db，就用同一个）。</translation>
    </message>
    <message>
        <source>The conversation database {path} was written by an older version of the app.</source>
        <translation>对话数据库 {path} 是由旧版本的应用写入的。</translation>
    </message>
    <message>
        <source>Open it once in the window (it is upgraded then), then run this again.</source>
        <translation>先在窗口中打开它一次（那时会升级），然后再运行此命令。</translation>
    </message>
    <message>
        <source>--endpoint names the address of one source, so it cannot go with --source auto.</source>
        <translation>--endpoint 指定的是某一个来源的地址，因此不能与 --source auto 同时使用。</translation>
    </message>
    <message>
        <source>Add --source huggingface, modelscope or openxlab.</source>
        <translation>请加上 --source huggingface、modelscope 或 openxlab。</translation>
    </message>
    <message>
        <source>{path} is the conversation database itself: writing there would replace every conversation.</source>
        <translation>{path} 就是对话数据库本身：写入那里会替换掉所有对话。</translation>
    </message>
    <message>
        <source>Choose another file for --output.</source>
        <translation>请为 --output 选择另一个文件。</translation>
    </message>
    <message>
        <source>Could not write {path}.</source>
        <translation>无法写入 {path}。</translation>
    </message>
    <message>
        <source>Choose another folder, or check that you may write there.</source>
        <translation>请选择其他文件夹，或检查你是否有权在那里写入。</translation>
    </message>
    <message>
        <source>Check the free disk space and try again.</source>
        <translation>请检查磁盘剩余空间后重试。</translation>
    </message>
    <message>
        <source>There is no conversation {id}.</source>
        <translation>没有编号为 {id} 的对话。</translation>
    </message>
    <message>
        <source>`conversations` lists the ids.</source>
        <translation>`conversations` 命令会列出所有编号。</translation>
    </message>
    <message>
        <source>A haystack needs at least 100 characters.</source>
        <translation>干草堆至少需要 100 个字符。</translation>
    </message>
    <message>
        <source>Use --chars 200000 or similar.</source>
        <translation>请使用 --chars 200000 或类似的值。</translation>
    </message>
    <message>
        <source>downloaded but not converted</source>
        <translation>已下载但尚未转换</translation>
    </message>
    <message>
        <source>{model} has no GGUF file yet ({state}); the llama.cpp backend needs one.</source>
        <translation>{model} 还没有 GGUF 文件（{state}）；llama.cpp 后端需要它。</translation>
    </message>
    <message>
        <source>Convert it with: {command}</source>
        <translation>请用以下命令转换：{command}</translation>
    </message>
    <message>
        <source>Resume the download with: {command}</source>
        <translation>请用以下命令继续下载：{command}</translation>
    </message>
    <message>
        <source>Download and convert it with: {command}</source>
        <translation>请用以下命令下载并转换：{command}</translation>
    </message>
    <message>
        <source>{model} is not on this computer yet ({phase}).</source>
        <translation>{model} 还不在这台电脑上（{phase}）。</translation>
    </message>
    <message>
        <source>There is no model file or folder named {name!r}, and no catalog model of that name.</source>
        <translation>没有名为 {name!r} 的模型文件或文件夹，目录中也没有这个名称的模型。</translation>
    </message>
    <message>
        <source>Give a .gguf file, a checkpoint folder, or a catalog id ({ids}); `{command}` lists what is on this computer.</source>
        <translation>请给出一个 .gguf 文件、一个检查点文件夹或一个目录 ID（{ids}）；`{command}` 会列出这台电脑上已有的模型。</translation>
    </message>
    <message>
        <source>{model} is not downloaded yet ({phase}); the PyTorch backend needs its checkpoint folder.</source>
        <translation>{model} 尚未下载（{phase}）；PyTorch 后端需要它的检查点文件夹。</translation>
    </message>
    <message>
        <source>Download it with: {command}</source>
        <translation>请用以下命令下载：{command}</translation>
    </message>
    <message>
        <source>The API key must have at least 8 characters and no spaces.</source>
        <translation>API 密钥至少需要 8 个字符，且不能包含空格。</translation>
    </message>
    <message>
        <source>Give another with --api-key or the {variable} variable.</source>
        <translation>请用 --api-key 或环境变量 {variable} 另给一个。</translation>
    </message>
    <message>
        <source>Listening on {host} lets other computers use the model.</source>
        <translation>在 {host} 上监听会让其他电脑也能使用该模型。</translation>
    </message>
    <message>
        <source>Add --allow-network if that is what you want, or use --host 127.0.0.1.</source>
        <translation>如果这正是你想要的，请加上 --allow-network；否则请使用 --host 127.0.0.1。</translation>
    </message>
    <message>
        <source>--no-api-key is allowed only on a loopback address (127.0.0.1, ::1, localhost).</source>
        <translation>--no-api-key 只允许用于回环地址（127.0.0.1、::1、localhost）。</translation>
    </message>
    <message>
        <source>Drop --no-api-key, or use --host 127.0.0.1.</source>
        <translation>请去掉 --no-api-key，或使用 --host 127.0.0.1。</translation>
    </message>
    <message>
        <source>--port {port} is not a port number (0 to 65535).</source>
        <translation>--port {port} 不是有效的端口号（0 到 65535）。</translation>
    </message>
    <message>
        <source>Give a port such as --port 8080.</source>
        <translation>请给出一个端口，例如 --port 8080。</translation>
    </message>
    <message>
        <source>--max-body must be at least 1 MiB and --queue at least 0.</source>
        <translation>--max-body 至少为 1 MiB，--queue 至少为 0。</translation>
    </message>
    <message>
        <source>Give --max-body 1 or more and --queue 0 or more.</source>
        <translation>请给出不小于 1 的 --max-body 和不小于 0 的 --queue。</translation>
    </message>
    <message>
        <source>Try again; if it happens again, the log file has the details.</source>
        <translation>请重试；如果再次发生，日志文件中有详细信息。</translation>
    </message>
    <message>
        <source>No model is loaded.</source>
        <translation>尚未加载模型。</translation>
    </message>
    <message>
        <source>Open a model first.</source>
        <translation>请先打开一个模型。</translation>
    </message>
    <message>
        <source>Chat model, SFT + online RLHF. The recommended default.</source>
        <translation>对话模型，经过监督微调与在线 RLHF。推荐默认使用。</translation>
    </message>
    <message>
        <source>Code Apache-2.0; weights free for academic research, commercial use needs a free licence application to Shanghai AI Laboratory.</source>
        <translation>代码采用 Apache-2.0 许可；权重可免费用于学术研究，商业使用需向上海人工智能实验室免费申请许可。</translation>
    </message>
    <message>
        <source>Chat model, supervised fine-tuning only.</source>
        <translation>对话模型，仅经过监督微调。</translation>
    </message>
    <message>
        <source>Base model: continues text, no chat template.</source>
        <translation>基座模型：续写文本，没有对话模板。</translation>
    </message>
</context>
<context>
    <name>CrashHandler</name>
    <message>
        <source>Something unexpected went wrong (%1). The app keeps running and your conversations are saved.</source>
        <translation>发生了意外错误（%1）。应用仍在运行，您的对话已保存。</translation>
    </message>
    <message>
        <source>The details are in %1.</source>
        <translation>详细信息见 %1。</translation>
    </message>
    <message>
        <source>Something went wrong</source>
        <translation>出错了</translation>
    </message>
</context>
<context>
    <name>DocumentController</name>
    <message>
        <source>Replace %1? The earlier answer was about it; it is kept.</source>
        <translation>替换 %1？之前的那个回答是关于它的；回答会保留。</translation>
    </message>
    <message>
        <source>Replace %1? The %2 earlier answers were about it; they are kept.</source>
        <translation>替换 %1？之前的 %2 个回答是关于它的；这些回答会保留。</translation>
    </message>
    <message>
        <source>Replace the document</source>
        <translation>替换文档</translation>
    </message>
    <message>
        <source>%1 (first %2 characters)</source>
        <translation>%1（前 %2 个字符）</translation>
    </message>
</context>
<context>
    <name>DocumentPane</name>
    <message>
        <source>&lt;b&gt;Document&lt;/b&gt;</source>
        <translation>&lt;b&gt;文档&lt;/b&gt;</translation>
    </message>
    <message>
        <source>Open…</source>
        <translation>打开…</translation>
    </message>
    <message>
        <source>Paste</source>
        <translation>粘贴</translation>
    </message>
    <message>
        <source>Attach the text on the clipboard</source>
        <translation>附加剪贴板中的文本</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <source>Drop a file here (text, Markdown, code, HTML, PDF, Word, EPUB), open one, or paste text. It is read whole into the conversation.</source>
        <translation>将文件拖放到这里（文本、Markdown、代码、HTML、PDF、Word、EPUB），或打开文件、粘贴文本。文档会被完整读入对话。</translation>
    </message>
    <message>
        <source>Stop reading</source>
        <translation>停止读取</translation>
    </message>
    <message>
        <source>Stop reading the document (Esc)</source>
        <translation>停止读取文档（Esc）</translation>
    </message>
    <message>
        <source>Include them again</source>
        <translation>重新包含它们</translation>
    </message>
    <message>
        <source>Find in the document</source>
        <translation>在文档中查找</translation>
    </message>
    <message>
        <source>Opening stopped.</source>
        <translation>已停止打开。</translation>
    </message>
    <message>
        <source>Stop opening</source>
        <translation>停止打开</translation>
    </message>
    <message>
        <source>Open a document</source>
        <translation>打开文档</translation>
    </message>
    <message>
        <source>Documents (%1);;All files (*)</source>
        <translation>文档 (%1);;所有文件 (*)</translation>
    </message>
    <message>
        <source>Opening %1…</source>
        <translation>正在打开 %1…</translation>
    </message>
    <message>
        <source>The clipboard holds no text.</source>
        <translation>剪贴板中没有文本。</translation>
    </message>
    <message>
        <source>Not found</source>
        <translation>未找到</translation>
    </message>
    <message>
        <source>Replace…</source>
        <translation>替换…</translation>
    </message>
    <message>
        <source>%1 characters · tokens: counting…</source>
        <translation>%1 个字符 · 词元：正在计数…</translation>
    </message>
    <message>
        <source>%1 characters · tokens: load a model to count them</source>
        <translation>%1 个字符 · 词元：加载模型后计数</translation>
    </message>
    <message>
        <source>Show more (%1 of %2 characters shown)</source>
        <translation>显示更多（已显示 %2 个字符中的 %1 个）</translation>
    </message>
    <message>
        <source>The model does not see the oldest turn of this conversation (chosen when it did not fit).</source>
        <translation>模型看不到此对话中最早的一轮（在放不下时所选）。</translation>
    </message>
    <message>
        <source>The model does not see the %1 oldest turns of this conversation (chosen when it did not fit).</source>
        <translation>模型看不到此对话中最早的 %1 轮（在放不下时所选）。</translation>
    </message>
    <message>
        <source>%1 characters · at least %2 tokens</source>
        <translation>%1 个字符 · 至少 %2 个词元</translation>
    </message>
    <message>
        <source>The document search is on: the model searches the document, which is not sent whole, so it does not have to fit.</source>
        <translation>文档搜索已开启：模型会搜索这份文档，文档不会整篇发送，因此不必放得进上下文。</translation>
    </message>
    <message>
        <source>Not read ahead: the document does not fit the loaded context.</source>
        <translation>未预读：文档放不进当前加载的上下文。</translation>
    </message>
    <message>
        <source>Not sent: the document alone needs at least %1 tokens, far more than any context holds (the model is loaded with a context of %3). Nothing was cut; choose what to do:</source>
        <translation>未发送：仅文档本身就至少需要 %1 个词元，远超任何上下文的容量（模型加载的上下文为 %3）。没有截断任何内容；请选择处理方式：</translation>
    </message>
    <message>
        <source>Leave out the oldest turn</source>
        <translation>省略最早的一轮对话</translation>
    </message>
    <message>
        <source>Leave out the %1 oldest turns</source>
        <translation>省略最早的 %1 轮对话</translation>
    </message>
    <message>
        <source>%1 characters · %2 tokens</source>
        <translation>%1 个字符 · %2 个词元</translation>
    </message>
    <message>
        <source>Takes %1% of the %2-token context.</source>
        <translation>占用 %2 词元上下文的 %1%。</translation>
    </message>
    <message>
        <source>With room for an answer it needs a context of %1 tokens; sending will offer it.</source>
        <translation>加上回答的空间，需要 %1 词元的上下文；发送时会提供此选项。</translation>
    </message>
    <message>
        <source>It is longer than this computer&apos;s memory allows (at most %1 tokens); sending will offer to cut it.</source>
        <translation>文档超出了本机内存允许的长度（最多 %1 词元）；发送时会提供截断选项。</translation>
    </message>
    <message>
        <source>Reading the document: %1 / %2 tokens</source>
        <translation>正在阅读文档：%1 / %2 词元</translation>
    </message>
    <message>
        <source>Read: %1 tokens, restored from the saved state.</source>
        <translation>已读：%1 词元，从保存的状态恢复。</translation>
    </message>
    <message>
        <source>Read: %1 tokens, already in memory.</source>
        <translation>已读：%1 词元，已在内存中。</translation>
    </message>
    <message>
        <source>Read: %1 tokens in %2 s; questions now only add to it.</source>
        <translation>已读：%1 词元，用时 %2 秒；之后的问题只需追加。</translation>
    </message>
    <message>
        <source>Reading stopped.</source>
        <translation>已停止阅读。</translation>
    </message>
    <message>
        <source>The document could not be read ahead: %1</source>
        <translation>无法预先阅读文档：%1</translation>
    </message>
    <message>
        <source>Not sent: the document (%1 tokens), the conversation, the question and room for the answer need %2 tokens, but the model is loaded with a context of %3. Nothing was cut; choose what to do:</source>
        <translation>未发送：文档（%1 词元）、对话、问题和回答空间共需 %2 词元，但模型加载的上下文为 %3。没有截断任何内容；请选择如何处理：</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Reload the model with a context of %1 tokens</source>
        <translation>以 %1 词元的上下文重新加载模型</translation>
    </message>
    <message>
        <source>Cut the document at character %1 (keep %2 tokens)</source>
        <translation>在第 %1 个字符处截断文档（保留 %2 词元）</translation>
    </message>
</context>
<context>
    <name>HeatMap</name>
    <message>
        <source>Document length (characters)</source>
        <translation>文档长度（字符）</translation>
    </message>
    <message>
        <source>Needle depth</source>
        <translation>“针”的深度</translation>
    </message>
    <message>
        <source>found</source>
        <translation>找到</translation>
    </message>
    <message>
        <source>not found</source>
        <translation>未找到</translation>
    </message>
    <message>
        <source>not run yet</source>
        <translation>尚未运行</translation>
    </message>
</context>
<context>
    <name>LocalServerHost</name>
    <message>
        <source>The local server starts when a model is loaded.</source>
        <translation>加载模型后，本地服务器会启动。</translation>
    </message>
    <message>
        <source>The local server is not running: {reason}</source>
        <translation>本地服务器没有运行：{reason}</translation>
    </message>
    <message>
        <source>Serving the model to other programs at {url}</source>
        <translation>正在通过 {url} 为其他程序提供模型</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>No model is loaded: you can read and search, but not send.</source>
        <translation>尚未加载模型：可以阅读和搜索，但不能发送。</translation>
    </message>
    <message>
        <source>Open a model…</source>
        <translation>打开模型…</translation>
    </message>
    <message>
        <source>Copied.</source>
        <translation>已复制。</translation>
    </message>
    <message>
        <source>%1 — Imported conversation</source>
        <translation>%1 — 导入的对话</translation>
    </message>
    <message>
        <source>The question was not sent: it does not fit the context. Choose what to do in the document pane.</source>
        <translation>问题未发送：超出上下文长度。请在文档面板中选择如何处理。</translation>
    </message>
    <message>
        <source>Stop the reply before editing.</source>
        <translation>请先停止回复再编辑。</translation>
    </message>
    <message>
        <source>Preparing a tool call…</source>
        <translation>正在准备工具调用…</translation>
    </message>
    <message>
        <source>Open a model</source>
        <translation>打开模型</translation>
    </message>
    <message>
        <source>Models (*.gguf config.json);;GGUF files (*.gguf);;Checkpoint folder (config.json)</source>
        <translation>模型 (*.gguf config.json);;GGUF 文件 (*.gguf);;检查点文件夹 (config.json)</translation>
    </message>
    <message>
        <source>Open a checkpoint folder</source>
        <translation>打开检查点文件夹</translation>
    </message>
    <message>
        <source>That is not a model: drop a .gguf file or a checkpoint folder.</source>
        <translation>这不是模型：请拖入 .gguf 文件或检查点文件夹。</translation>
    </message>
    <message>
        <source>A program is using the model through the local server; your reply waits its turn.</source>
        <translation>有程序正在通过本地服务器使用模型；你的回复会排队等待。</translation>
    </message>
</context>
<context>
    <name>ModelList</name>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>State</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Checkpoint folder (PyTorch)</source>
        <translation>检查点文件夹（PyTorch）</translation>
    </message>
    <message>
        <source>GGUF {0}</source>
        <translation>GGUF {0}</translation>
    </message>
    <message>
        <source>Added by you</source>
        <translation>您添加的</translation>
    </message>
    <message>
        <source>missing</source>
        <translation>文件缺失</translation>
    </message>
    <message>
        <source>Converted ({0})</source>
        <translation>已转换（{0}）</translation>
    </message>
    <message>
        <source>Downloaded</source>
        <translation>已下载</translation>
    </message>
    <message>
        <source>Partly downloaded ({0}%): download to resume</source>
        <translation>已下载一部分（{0}%）：点击下载可继续</translation>
    </message>
    <message>
        <source>Not downloaded</source>
        <translation>未下载</translation>
    </message>
    <message>
        <source>, in use</source>
        <translation>，使用中</translation>
    </message>
    <message>
        <source>In use</source>
        <translation>使用中</translation>
    </message>
    <message>
        <source>Ready</source>
        <translation>就绪</translation>
    </message>
</context>
<context>
    <name>ModelManagerDialog</name>
    <message>
        <source>Models</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Looking at this computer...</source>
        <translation>正在检查这台电脑……</translation>
    </message>
    <message>
        <source>Get the recommended model</source>
        <translation>获取推荐的模型</translation>
    </message>
    <message>
        <source>Details</source>
        <translation>详细信息</translation>
    </message>
    <message>
        <source>Where the download comes from: the fastest source to answer, or the one you choose.</source>
        <translation>下载来源：响应最快的来源，或你选择的来源。</translation>
    </message>
    <message>
        <source>From the fastest source</source>
        <translation>从最快的来源</translation>
    </message>
    <message>
        <source>From {0}</source>
        <translation>从 {0}</translation>
    </message>
    <message>
        <source>Download</source>
        <translation>下载</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <source>Cancel download</source>
        <translation>取消下载</translation>
    </message>
    <message>
        <source>Convert</source>
        <translation>转换</translation>
    </message>
    <message>
        <source>Use</source>
        <translation>使用</translation>
    </message>
    <message>
        <source>Delete...</source>
        <translation>删除……</translation>
    </message>
    <message>
        <source>Show in folder</source>
        <translation>在文件夹中显示</translation>
    </message>
    <message>
        <source>Add folder...</source>
        <translation>添加文件夹……</translation>
    </message>
    <message>
        <source>Add GGUF file...</source>
        <translation>添加 GGUF 文件……</translation>
    </message>
    <message>
        <source>Close</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>GGUF type:</source>
        <translation>GGUF 类型：</translation>
    </message>
    <message>
        <source>smallest and fastest, close to the original quality (recommended)</source>
        <translation>最小最快，质量接近原始模型（推荐）</translation>
    </message>
    <message>
        <source>a little larger and a little closer to the original</source>
        <translation>稍大一些，也更接近原始模型</translation>
    </message>
    <message>
        <source>hard to tell from the original</source>
        <translation>与原始模型几乎无法区分</translation>
    </message>
    <message>
        <source>practically the original quality, larger and slower</source>
        <translation>几乎是原始质量，更大也更慢</translation>
    </message>
    <message>
        <source>the original weights: largest, slowest on a CPU</source>
        <translation>原始权重：最大，在 CPU 上最慢</translation>
    </message>
    <message>
        <source>{0}, about {1}: {2}</source>
        <translation>{0}，约 {1}：{2}</translation>
    </message>
    <message>
        <source>{0}
Licence: {1}</source>
        <translation>{0}
许可：{1}</translation>
    </message>
    <message>
        <source>Downloaded from {0}, commit {1}</source>
        <translation>下载自 {0}，提交 {1}</translation>
    </message>
    <message>
        <source>A checkpoint folder you added: {0}</source>
        <translation>你添加的检查点文件夹：{0}</translation>
    </message>
    <message>
        <source>Starting the download...</source>
        <translation>正在开始下载……</translation>
    </message>
    <message>
        <source>Starting the conversion...</source>
        <translation>正在开始转换……</translation>
    </message>
    <message>
        <source>Starting...</source>
        <translation>正在开始……</translation>
    </message>
    <message>
        <source>Remove {0} from the list? Its files stay where they are.</source>
        <translation>从列表中移除 {0}？其文件会保留在原处。</translation>
    </message>
    <message>
        <source>Removed from the list.</source>
        <translation>已从列表中移除。</translation>
    </message>
    <message>
        <source>Delete {0}? This frees {1}.</source>
        <translation>删除 {0}？这将释放 {1}。</translation>
    </message>
    <message>
        <source>Delete the downloaded files of {0}? This frees {1}; converted GGUF files stay.</source>
        <translation>删除 {0} 已下载的文件？这将释放 {1}；已转换的 GGUF 文件会保留。</translation>
    </message>
    <message>
        <source>Deleted; {0} freed.</source>
        <translation>已删除；释放了 {0}。</translation>
    </message>
    <message>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <source>Choose an InternLM2 checkpoint folder</source>
        <translation>选择 InternLM2 检查点文件夹</translation>
    </message>
    <message>
        <source>Choose a GGUF file</source>
        <translation>选择 GGUF 文件</translation>
    </message>
    <message>
        <source>GGUF files (*.gguf)</source>
        <translation>GGUF 文件 (*.gguf)</translation>
    </message>
    <message>
        <source>Added {0}.</source>
        <translation>已添加 {0}。</translation>
    </message>
    <message>
        <source>Downloading {0}%</source>
        <translation>正在下载 {0}%</translation>
    </message>
    <message>
        <source>{0}/s</source>
        <translation>{0}/秒</translation>
    </message>
    <message>
        <source>Quantizing {0}%</source>
        <translation>正在量化 {0}%</translation>
    </message>
    <message>
        <source>Converting {0}%</source>
        <translation>正在转换 {0}%</translation>
    </message>
    <message>
        <source>{0} s left</source>
        <translation>剩余 {0} 秒</translation>
    </message>
    <message>
        <source>{0} min left</source>
        <translation>剩余 {0} 分钟</translation>
    </message>
    <message>
        <source>{0:.1f} h left</source>
        <translation>剩余 {0:.1f} 小时</translation>
    </message>
    <message>
        <source>{0} failed; continuing from {1}.</source>
        <translation>{0} 失败；改从 {1} 继续。</translation>
    </message>
    <message>
        <source>Downloading from {0}, the fastest source to answer.</source>
        <translation>正在从 {0} 下载（响应最快的来源）。</translation>
    </message>
    <message>
        <source>Downloading from {0}.</source>
        <translation>正在从 {0} 下载。</translation>
    </message>
    <message>
        <source>Downloaded.</source>
        <translation>下载完成。</translation>
    </message>
    <message>
        <source>Converted: {0}</source>
        <translation>已转换：{0}</translation>
    </message>
    <message>
        <source>Cancelled; the partial download was deleted.</source>
        <translation>已取消；未下载完的文件已删除。</translation>
    </message>
    <message>
        <source>Paused; downloading again resumes where it stopped.</source>
        <translation>已暂停；再次下载会从中断处继续。</translation>
    </message>
    <message>
        <source>Stopped.</source>
        <translation>已停止。</translation>
    </message>
    <message>
        <source>Recommended for this computer: {0} on the PyTorch backend in bf16 on your GPU ({1}).</source>
        <translation>为这台电脑推荐：{0}，使用 PyTorch 后端，以 bf16 在您的 GPU（{1}）上运行。</translation>
    </message>
    <message>
        <source>Download and use</source>
        <translation>下载并使用</translation>
    </message>
    <message>
        <source>Recommended for this computer: {0} as a {1} GGUF on the Apple GPU (Metal).</source>
        <translation>为这台电脑推荐：{0}，转换为 {1} GGUF，在 Apple GPU（Metal）上运行。</translation>
    </message>
    <message>
        <source>Download, convert and use</source>
        <translation>下载、转换并使用</translation>
    </message>
    <message>
        <source>Recommended for this computer: {0} as a {1} GGUF on the CPU.</source>
        <translation>为这台电脑推荐：{0}，转换为 {1} GGUF，在 CPU 上运行。</translation>
    </message>
</context>
<context>
    <name>NeedleDialog</name>
    <message>
        <source>Needle-in-a-haystack check</source>
        <translation>大海捞针测试</translation>
    </message>
    <message>
        <source>No model is loaded.</source>
        <translation>尚未加载模型。</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Characters</source>
        <translation>字符数</translation>
    </message>
    <message>
        <source>Depths (%)</source>
        <translation>深度（%）</translation>
    </message>
    <message>
        <source>Hides a sentence at several depths of a long filler text and asks the model for it. With the real weights this checks the long-context claim on this computer; it reads the whole text once per depth.</source>
        <translation>把一句话藏在一段很长的填充文本的不同深度处，再请模型把它找出来。使用真实权重时，这会在本机检验长上下文能力；每个深度都会把整段文本完整读一遍。</translation>
    </message>
    <message>
        <source>Depth</source>
        <translation>深度</translation>
    </message>
    <message>
        <source>Length</source>
        <translation>长度</translation>
    </message>
    <message>
        <source>Found</source>
        <translation>找到</translation>
    </message>
    <message>
        <source>Answer</source>
        <translation>回答</translation>
    </message>
    <message>
        <source>Run</source>
        <translation>运行</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Depths are percentages from 0 to 100, separated by commas.</source>
        <translation>深度是 0 到 100 的百分数，用逗号分隔。</translation>
    </message>
    <message>
        <source>How long it takes is known once the model has answered a question here; on a laptop CPU 200,000 characters take hours.</source>
        <translation>模型在这里回答过一个问题后才能估计所需时间；在笔记本电脑的 CPU 上，200,000 个字符需要数小时。</translation>
    </message>
    <message>
        <source>About %1 on this computer (it reads about %2 tokens/s).</source>
        <translation>在本机上大约需要 %1（读取速度约每秒 %2 个词元）。</translation>
    </message>
    <message>
        <source>Use %1 characters</source>
        <translation>改用 %1 个字符</translation>
    </message>
    <message>
        <source>Loading the model…</source>
        <translation>正在加载模型…</translation>
    </message>
    <message>
        <source>The check did not finish: see the output below.</source>
        <translation>检查没有完成：请查看下方的输出。</translation>
    </message>
    <message>
        <source>Cancelled.</source>
        <translation>已取消。</translation>
    </message>
    <message>
        <source>yes</source>
        <translation>是</translation>
    </message>
    <message>
        <source>no</source>
        <translation>否</translation>
    </message>
    <message>
        <source>Depth %1 of %2: %3 / %4 tokens read</source>
        <translation>第 %1 个深度（共 %2 个）：已读取 %3 / %4 个词元</translation>
    </message>
    <message>
        <source>Done: found %1 of %2.</source>
        <translation>完成：%2 次中找到 %1 次。</translation>
    </message>
    <message>
        <source>The check did not finish (exit status %1).</source>
        <translation>测试未完成（退出状态 %1）。</translation>
    </message>
</context>
<context>
    <name>NeedleView</name>
    <message>
        <source>%1 h %2 min</source>
        <translation>%1 小时 %2 分钟</translation>
    </message>
    <message>
        <source>%1 min</source>
        <translation>%1 分钟</translation>
    </message>
    <message>
        <source>%1 s</source>
        <translation>%1 秒</translation>
    </message>
</context>
<context>
    <name>OverlayNotice</name>
    <message>
        <source>Click to hide this notice.</source>
        <translation>点击隐藏此提示。</translation>
    </message>
</context>
<context>
    <name>SamplingForm</name>
    <message>
        <source>0 always picks the likeliest word; higher is more varied.</source>
        <translation>0 总是选择最可能的词；数值越高，回复越多样。</translation>
    </message>
    <message>
        <source>off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <source>Temperature</source>
        <translation>温度</translation>
    </message>
    <message>
        <source>Top-p</source>
        <translation>Top-p 采样</translation>
    </message>
    <message>
        <source>Top-k</source>
        <translation>Top-k 采样</translation>
    </message>
    <message>
        <source>Repetition penalty</source>
        <translation>重复惩罚</translation>
    </message>
    <message>
        <source>Longest reply (tokens)</source>
        <translation>最长回复（词元）</translation>
    </message>
    <message>
        <source>Official defaults</source>
        <translation>官方默认值</translation>
    </message>
    <message>
        <source>Temperature 0.8, top-p 0.8, 1024 tokens: the model&apos;s own chat() settings</source>
        <translation>温度 0.8，top-p 0.8，1024 个词元：模型自带 chat() 的设置</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>Appearance</source>
        <translation>外观</translation>
    </message>
    <message>
        <source>Follow the system</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <source>Light</source>
        <translation>浅色</translation>
    </message>
    <message>
        <source>Dark</source>
        <translation>深色</translation>
    </message>
    <message>
        <source>Theme</source>
        <translation>主题</translation>
    </message>
    <message>
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>Opened at start (a .gguf file or a checkpoint folder)</source>
        <translation>启动时打开（.gguf 文件或检查点文件夹）</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>Default model</source>
        <translation>默认模型</translation>
    </message>
    <message>
        <source>Choose from the file</source>
        <translation>根据文件自动选择</translation>
    </message>
    <message>
        <source>Backend</source>
        <translation>后端</translation>
    </message>
    <message>
        <source>automatic (%1)</source>
        <translation>自动（%1）</translation>
    </message>
    <message>
        <source>Threads llama.cpp computes with; automatic: one per physical core, one left for the window on machines with more than four</source>
        <translation>llama.cpp 计算所用的线程数；自动：每个物理核心一个，超过四核的机器为窗口留出一个</translation>
    </message>
    <message>
        <source>CPU threads</source>
        <translation>CPU 线程数</translation>
    </message>
    <message>
        <source>all</source>
        <translation>全部</translation>
    </message>
    <message>
        <source>GPU layers</source>
        <translation>GPU 层数</translation>
    </message>
    <message>
        <source>q8_0 halves the memory the context needs</source>
        <translation>q8_0 可将上下文所需内存减半</translation>
    </message>
    <message>
        <source>KV cache type</source>
        <translation>KV 缓存类型</translation>
    </message>
    <message>
        <source>Context (tokens)</source>
        <translation>上下文（词元）</translation>
    </message>
    <message>
        <source>Downloads</source>
        <translation>下载</translation>
    </message>
    <message>
        <source>https://huggingface.co, or a mirror</source>
        <translation>https://huggingface.co 或镜像地址</translation>
    </message>
    <message>
        <source>Where models are downloaded from: set a mirror if the hub is slow or unreachable where you are.</source>
        <translation>模型的下载来源：如果所在地区访问模型中心很慢或无法访问，请设置镜像。</translation>
    </message>
    <message>
        <source>Model hub address</source>
        <translation>模型中心地址</translation>
    </message>
    <message>
        <source>none (use the system&apos;s settings)</source>
        <translation>无（使用系统设置）</translation>
    </message>
    <message>
        <source>Proxy</source>
        <translation>代理</translation>
    </message>
    <message>
        <source>New conversations</source>
        <translation>新对话</translation>
    </message>
    <message>
        <source>Model settings apply the next time a model is opened.</source>
        <translation>模型设置将在下次打开模型时生效。</translation>
    </message>
    <message>
        <source>Local server</source>
        <translation>本地服务器</translation>
    </message>
    <message>
        <source>Serve the model to other programs (OpenAI-compatible API)</source>
        <translation>为其他程序提供模型（兼容 OpenAI 的 API）</translation>
    </message>
    <message>
        <source>Port</source>
        <translation>端口</translation>
    </message>
    <message>
        <source>Address</source>
        <translation>地址</translation>
    </message>
    <message>
        <source>New key</source>
        <translation>新密钥</translation>
    </message>
    <message>
        <source>API key</source>
        <translation>API 密钥</translation>
    </message>
    <message>
        <source>Copy example</source>
        <translation>复制示例</translation>
    </message>
    <message>
        <source>Copies a curl command and a Python example that use this address and key</source>
        <translation>复制一条使用此地址和密钥的 curl 命令和一段 Python 示例</translation>
    </message>
    <message>
        <source>Only programs on this computer can connect, and only with the key. While a program uses the model, your own replies wait their turn.</source>
        <translation>只有本机上的程序可以连接，而且必须使用密钥。有程序在使用模型时，你自己的回复会排队等待。</translation>
    </message>
    <message>
        <source>GGUF models (*.gguf)</source>
        <translation>GGUF 模型 (*.gguf)</translation>
    </message>
</context>
<context>
    <name>ShortcutsDialog</name>
    <message>
        <source>Keyboard shortcuts</source>
        <translation>键盘快捷键</translation>
    </message>
    <message>
        <source>New conversation</source>
        <translation>新建对话</translation>
    </message>
    <message>
        <source>Search all conversations</source>
        <translation>搜索所有对话</translation>
    </message>
    <message>
        <source>Send the message</source>
        <translation>发送消息</translation>
    </message>
    <message>
        <source>New line in the message</source>
        <translation>在消息中换行</translation>
    </message>
    <message>
        <source>Stop the reply</source>
        <translation>停止回复</translation>
    </message>
    <message>
        <source>Previous / next version of the message at the cursor (else of the last one with versions)</source>
        <translation>光标所在消息的上一个 / 下一个版本（否则为最后一条有多个版本的消息）</translation>
    </message>
    <message>
        <source>Go to the previous / next message with versions</source>
        <translation>转到上一条 / 下一条带有多个版本的消息</translation>
    </message>
    <message>
        <source>Answer the waiting tool call: allow once / always for this conversation / deny</source>
        <translation>回应等待中的工具调用：允许一次 / 在这个对话中始终允许 / 拒绝</translation>
    </message>
    <message>
        <source>Open a model</source>
        <translation>打开模型</translation>
    </message>
    <message>
        <source>Export the conversation</source>
        <translation>导出对话</translation>
    </message>
    <message>
        <source>Rename the selected conversation</source>
        <translation>重命名所选对话</translation>
    </message>
    <message>
        <source>Move the selected conversation to the trash</source>
        <translation>将所选对话移至回收站</translation>
    </message>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>This help</source>
        <translation>本帮助</translation>
    </message>
</context>
<context>
    <name>SidePanel</name>
    <message>
        <source>&lt;b&gt;This conversation&lt;/b&gt;</source>
        <translation>&lt;b&gt;本对话&lt;/b&gt;</translation>
    </message>
    <message>
        <source>System prompt</source>
        <translation>系统提示词</translation>
    </message>
    <message>
        <source>No system prompt</source>
        <translation>无系统提示词</translation>
    </message>
    <message>
        <source>Official system prompt</source>
        <translation>官方系统提示词</translation>
    </message>
    <message>
        <source>Sampling</source>
        <translation>采样</translation>
    </message>
    <message>
        <source>Tools</source>
        <translation>工具</translation>
    </message>
    <message>
        <source>Calculator</source>
        <translation>计算器</translation>
    </message>
    <message>
        <source>Exact arithmetic; no code is run.</source>
        <translation>精确的四则运算；不运行任何代码。</translation>
    </message>
    <message>
        <source>Date and time</source>
        <translation>日期和时间</translation>
    </message>
    <message>
        <source>This computer&apos;s local date, time and time zone.</source>
        <translation>这台电脑的本地日期、时间和时区。</translation>
    </message>
    <message>
        <source>Search the attached document</source>
        <translation>搜索附加的文档</translation>
    </message>
    <message>
        <source>Passages of the attached document that match, with their positions. While this is on, the document is not sent whole: the model searches it, so a document too long for the context can be asked about.</source>
        <translation>附加文档中匹配的段落及其位置。开启时，文档不会整篇发送：模型会搜索它，因此超出上下文长度的文档也可以提问。</translation>
    </message>
    <message>
        <source>Each call runs only after you allow it.</source>
        <translation>每次调用都要经你允许后才会运行。</translation>
    </message>
</context>
<context>
    <name>StatusPanel</name>
    <message>
        <source>No model loaded</source>
        <translation>未加载模型</translation>
    </message>
    <message>
        <source>model</source>
        <translation>模型</translation>
    </message>
    <message>
        <source>%1 on %2</source>
        <translation>%1，运行于 %2</translation>
    </message>
    <message>
        <source>CPU, %1 threads</source>
        <translation>CPU，%1 个线程</translation>
    </message>
    <message>
        <source>all</source>
        <translation>全部</translation>
    </message>
    <message>
        <source>GPU offload (%1 layers) + CPU, %2 threads</source>
        <translation>GPU 卸载（%1 层）+ CPU，%2 个线程</translation>
    </message>
    <message>
        <source>this llama.cpp build has no GPU support</source>
        <translation>此 llama.cpp 版本不支持 GPU</translation>
    </message>
    <message>
        <source>GPU offload is switched off in Settings</source>
        <translation>GPU 卸载已在设置中关闭</translation>
    </message>
    <message>
        <source>this llama.cpp build can offload to the GPU</source>
        <translation>此 llama.cpp 版本可以卸载到 GPU</translation>
    </message>
    <message>
        <source>Context: %1 / %2 tokens</source>
        <translation>上下文：%1 / %2 个词元</translation>
    </message>
    <message>
        <source>First token %1 s · %2 tokens/s</source>
        <translation>首个词元 %1 秒 · 每秒 %2 个词元</translation>
    </message>
    <message>
        <source>about %1 min left</source>
        <translation>约剩 %1 分钟</translation>
    </message>
    <message>
        <source>about %1 s left</source>
        <translation>约剩 %1 秒</translation>
    </message>
    <message>
        <source>Stopping…</source>
        <translation>正在停止…</translation>
    </message>
    <message>
        <source>Reading: %1 / %2 tokens</source>
        <translation>正在读取：%1 / %2 个词元</translation>
    </message>
    <message>
        <source>Loading the model…</source>
        <translation>正在加载模型…</translation>
    </message>
</context>
<context>
    <name>ToolController</name>
    <message>
        <source>This answer has already made %1 tool calls: the next one was not run. Ask again to go on.</source>
        <translation>这个回答已经调用了 %1 次工具：下一次调用没有运行。请再问一次以继续。</translation>
    </message>
    <message>
        <source>Wait for the current reply to end, then answer the tool call.</source>
        <translation>请等当前回复结束，再回应这次工具调用。</translation>
    </message>
</context>
<context>
    <name>TrashDialog</name>
    <message>
        <source>Trash</source>
        <translation>回收站</translation>
    </message>
    <message>
        <source>Deleted conversations and versions stay here, with every message, until you delete them for good.</source>
        <translation>已删除的对话和版本连同所有消息都保存在这里，直到你将其永久删除。</translation>
    </message>
    <message>
        <source>The trash is empty.</source>
        <translation>回收站是空的。</translation>
    </message>
    <message>
        <source>Restore</source>
        <translation>恢复</translation>
    </message>
    <message>
        <source>Delete for good…</source>
        <translation>永久删除…</translation>
    </message>
    <message>
        <source>Empty the trash…</source>
        <translation>清空回收站…</translation>
    </message>
    <message>
        <source>%1 (deleted %2)</source>
        <translation>%1（删除于 %2）</translation>
    </message>
    <message>
        <source>New chat</source>
        <translation>新对话</translation>
    </message>
    <message numerus="yes">
        <source>A version in «%1»: %2 (%n message(s), deleted %3)</source>
        <translation>
            <numerusform>«%1» 中的一个版本：%2（%n 条消息，删除于 %3）</numerusform>
        </translation>
    </message>
    <message>
        <source>Delete for good</source>
        <translation>永久删除</translation>
    </message>
    <message numerus="yes">
        <source>Delete %n item(s) for good? This cannot be undone.</source>
        <translation>
            <numerusform>永久删除 %n 项？此操作无法撤销。</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Delete all %n item(s) in the trash for good? This cannot be undone.</source>
        <translation>
            <numerusform>永久删除回收站中的全部 %n 项？此操作无法撤销。</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>VersionSwitcher</name>
    <message>
        <source>Stop the reply before switching versions.</source>
        <translation>请先停止回复，再切换版本。</translation>
    </message>
    <message>
        <source>No message here has other versions.</source>
        <translation>这里没有带其他版本的消息。</translation>
    </message>
    <message>
        <source>Version %1 of %2 of this message: Alt+Left / Alt+Right switch it.</source>
        <translation>此消息的第 %1 个版本（共 %2 个）：按 Alt+Left / Alt+Right 切换。</translation>
    </message>
    <message>
        <source>This is the only version; delete the conversation to remove it.</source>
        <translation>这是唯一的版本；如需移除，请删除整个对话。</translation>
    </message>
    <message>
        <source>The version and the turns after it were moved to the trash (Chat &gt; Trash restores it).</source>
        <translation>该版本及其后的对话已移到回收站（“对话 &gt; 回收站”可恢复）。</translation>
    </message>
    <message>
        <source>The version was moved to the trash (Chat &gt; Trash restores it).</source>
        <translation>该版本已移到回收站（“对话 &gt; 回收站”可恢复）。</translation>
    </message>
    <message>
        <source>Stop the reply to open the version that matched.</source>
        <translation>请先停止回复，才能打开匹配的版本。</translation>
    </message>
</context>
<context>
    <name>WelcomePage</name>
    <message>
        <source>Welcome to InternLM2 Desktop</source>
        <translation>欢迎使用 InternLM2 桌面版</translation>
    </message>
    <message>
        <source>Chat with the InternLM2-1.8B models on this computer, offline, and ask questions about long documents read whole.

To begin, open a model: a .gguf file or a checkpoint folder. You can also drop one on this window.</source>
        <translation>在本机离线与 InternLM2-1.8B 模型对话，并就完整读入的长文档提问。

首先请打开一个模型：.gguf 文件或检查点文件夹。也可以直接把它拖到此窗口。</translation>
    </message>
    <message>
        <source>Open a model…</source>
        <translation>打开模型…</translation>
    </message>
    <message>
        <source>Download a model…</source>
        <translation>下载模型…</translation>
    </message>
    <message>
        <source>Loading %1…</source>
        <translation>正在加载 %1…</translation>
    </message>
</context>
<context>
    <name>WindowMenus</name>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Chat</source>
        <translation>对话(&amp;C)</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>New conversation</source>
        <translation>新建对话</translation>
    </message>
    <message>
        <source>Open a model…</source>
        <translation>打开模型…</translation>
    </message>
    <message>
        <source>Open a checkpoint folder…</source>
        <translation>打开检查点文件夹…</translation>
    </message>
    <message>
        <source>Download a model…</source>
        <translation>下载模型…</translation>
    </message>
    <message>
        <source>Export conversation…</source>
        <translation>导出对话…</translation>
    </message>
    <message>
        <source>Import conversation…</source>
        <translation>导入对话…</translation>
    </message>
    <message>
        <source>Settings…</source>
        <translation>设置…</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>退出</translation>
    </message>
    <message>
        <source>Search conversations</source>
        <translation>搜索对话</translation>
    </message>
    <message>
        <source>Stop the reply</source>
        <translation>停止回复</translation>
    </message>
    <message>
        <source>Regenerate the last reply</source>
        <translation>重新生成最后一条回复</translation>
    </message>
    <message>
        <source>Rename conversation</source>
        <translation>重命名对话</translation>
    </message>
    <message>
        <source>Delete conversation</source>
        <translation>删除对话</translation>
    </message>
    <message>
        <source>Trash…</source>
        <translation>回收站…</translation>
    </message>
    <message>
        <source>Conversation list</source>
        <translation>对话列表</translation>
    </message>
    <message>
        <source>Conversation settings panel</source>
        <translation>对话设置面板</translation>
    </message>
    <message>
        <source>Document panel</source>
        <translation>文档面板</translation>
    </message>
    <message>
        <source>Attach a document…</source>
        <translation>附加文档…</translation>
    </message>
    <message>
        <source>Needle-in-a-haystack check…</source>
        <translation>大海捞针测试…</translation>
    </message>
    <message>
        <source>Keyboard shortcuts</source>
        <translation>键盘快捷键</translation>
    </message>
    <message>
        <source>About</source>
        <translation>关于</translation>
    </message>
</context>
</TS>
