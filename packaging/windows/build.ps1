# Build the one-folder InternLM2 Desktop app on Windows (x64) with PyInstaller.
#
#   powershell -ExecutionPolicy Bypass -File packaging\windows\build.ps1 -Flavour light
#
# NOT RUN HERE: this recipe was written and reviewed against PyInstaller 6.x's documentation
# and source (EXE(icon=.ico, version=VSVersionInfo file), COLLECT one-folder), but the project's
# CI is Linux-only and no Windows machine was available. Needs: Python 3.11 x64 from python.org,
# Visual Studio 2022 Build Tools (C++ workload) and CMake for the llama.cpp build.
param([ValidateSet("light", "full")][string]$Flavour = "light")
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..\..")

$venv = "packaging\build\venv-$Flavour"
if (-not (Test-Path "$venv\Scripts\python.exe")) { py -3.11 -m venv $venv }
$py = "$venv\Scripts\python.exe"
& $py -m pip install -q --upgrade pip wheel scikit-build-core cmake ninja

# llama.cpp: portable x86-64-v3 flags, no -march=native, no AMX kernels (docs/llama-cpp-build.md).
# scripts/llama_wheel.sh is bash; on Windows the same flags go straight to pip.
$env:CMAKE_ARGS = "-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON " +
                  "-DGGML_BMI2=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
& $py -m pip wheel --no-deps --no-cache-dir --no-binary llama-cpp-python -w "packaging\build\wheels" "llama-cpp-python==0.3.36"
$wheel = Get-ChildItem "packaging\build\wheels\llama_cpp_python-*.whl" | Select-Object -First 1

$extras = "package"
if ($Flavour -eq "full") {
  $extras = "package,torch"
  # CUDA torch for the full flavour: e.g. $env:INTERNLM2_TORCH_INDEX = "https://download.pytorch.org/whl/cu128"
  if ($env:INTERNLM2_TORCH_INDEX) { & $py -m pip install -q --extra-index-url $env:INTERNLM2_TORCH_INDEX "torch==2.13.0" }
}
& $py -m pip install -q -c "packaging\constraints-$Flavour.txt" $wheel.FullName -e ".[$extras]"

$work = "packaging\build\$Flavour"
New-Item -ItemType Directory -Force $work | Out-Null
& $py -m app.licences --flavour $Flavour --out "$work\third_party_licences.json"
& $py packaging\windows\make_version_info.py "$work\version_info.txt"

$env:INTERNLM2_FLAVOUR = $Flavour
$env:INTERNLM2_LICENCES_FILE = (Resolve-Path "$work\third_party_licences.json").Path
$env:INTERNLM2_VERSION_FILE = (Resolve-Path "$work\version_info.txt").Path
& $py -m PyInstaller --noconfirm --log-level WARN --distpath "packaging\dist\$Flavour" `
    --workpath "$work\pyinstaller" packaging\internlm2-desktop.spec

# The app is windowed (no console): the self-test reports through its exit status.
$exe = "packaging\dist\$Flavour\internlm2-desktop\internlm2-desktop.exe"
Write-Host "Built $exe. Self-test: Start-Process -Wait -PassThru $exe '--selftest --model MODEL.gguf' | % ExitCode"
Compress-Archive -Force "packaging\dist\$Flavour\internlm2-desktop" "packaging\dist\internlm2-desktop-windows-x64-$Flavour.zip"
