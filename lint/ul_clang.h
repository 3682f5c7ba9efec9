/* ul_clang.h - libclang for the lint, loaded only when the lint runs.
 *
 * The executables do not link libclang: `--check --no-lint`, `--write` and the language server's
 * drift checks never need it, and loading libclang-14 with libLLVM costs each process some 12 ms
 * of relocations and 3,600 page faults before main(). ul_clang_load() dlopen()s libclang the
 * first time the lint needs it and resolves every clang_* function the lint calls into one table,
 * `ul_cx`; the macros below make each call of clang_X in lint/ a call through that table, so a
 * call of a function left out of UL_CLANG_FUNCS is a link error, never a silent direct call.
 *
 * Which library: $UNASYNC_LIBCLANG when set (a soname or a path; then nothing else is tried),
 * else the soname of the libclang the lint was built against (UL_CLANG_SONAME), else that
 * library's path in the system's LLVM folder (UL_CLANG_SYSTEM_PATH; never a build path). The
 * headers are the same libclang's, so the table's types are its ABI. */
#ifndef UNASYNC_UL_CLANG_H
#define UNASYNC_UL_CLANG_H

#include <clang-c/CXCompilationDatabase.h>
#include <clang-c/Index.h>

#include <stddef.h>

/* Every libclang function the lint calls. */
#define UL_CLANG_FUNCS(X) \
    X(clang_CompilationDatabase_dispose) \
    X(clang_CompilationDatabase_fromDirectory) \
    X(clang_CompilationDatabase_getAllCompileCommands) \
    X(clang_CompilationDatabase_getCompileCommands) \
    X(clang_CompileCommand_getArg) \
    X(clang_CompileCommand_getDirectory) \
    X(clang_CompileCommand_getFilename) \
    X(clang_CompileCommand_getNumArgs) \
    X(clang_CompileCommands_dispose) \
    X(clang_CompileCommands_getCommand) \
    X(clang_CompileCommands_getSize) \
    X(clang_Cursor_getStorageClass) \
    X(clang_Cursor_hasAttrs) \
    X(clang_Cursor_isNull) \
    X(clang_File_tryGetRealPathName) \
    X(clang_Location_isFromMainFile) \
    X(clang_createIndex) \
    X(clang_defaultReparseOptions) \
    X(clang_disposeDiagnostic) \
    X(clang_disposeIndex) \
    X(clang_disposeString) \
    X(clang_disposeTokens) \
    X(clang_disposeTranslationUnit) \
    X(clang_getCString) \
    X(clang_getCanonicalCursor) \
    X(clang_getCursor) \
    X(clang_getCursorDefinition) \
    X(clang_getCursorExtent) \
    X(clang_getCursorKind) \
    X(clang_getCursorLinkage) \
    X(clang_getCursorLocation) \
    X(clang_getCursorReferenced) \
    X(clang_getCursorSpelling) \
    X(clang_getDiagnostic) \
    X(clang_getDiagnosticLocation) \
    X(clang_getDiagnosticSeverity) \
    X(clang_getDiagnosticSpelling) \
    X(clang_getFile) \
    X(clang_getFileLocation) \
    X(clang_getFileName) \
    X(clang_getLocationForOffset) \
    X(clang_getNullCursor) \
    X(clang_getNumDiagnostics) \
    X(clang_getRangeEnd) \
    X(clang_getRangeStart) \
    X(clang_getTokenKind) \
    X(clang_getTokenSpelling) \
    X(clang_getTranslationUnitCursor) \
    X(clang_getTranslationUnitSpelling) \
    X(clang_hashCursor) \
    X(clang_isCursorDefinition) \
    X(clang_isDeclaration) \
    X(clang_isInvalid) \
    X(clang_parseTranslationUnit2) \
    X(clang_reparseTranslationUnit) \
    X(clang_tokenize) \
    X(clang_visitChildren)

/* The resolved functions, each member named and typed as the function it points to. */
typedef struct ul_clang_fns {
#define UL_CLANG_MEMBER(name) __typeof__(name) *name;
    UL_CLANG_FUNCS(UL_CLANG_MEMBER)
#undef UL_CLANG_MEMBER
} ul_clang_fns;

/* Filled by ul_clang_load(); read only after it returned 0. */
extern ul_clang_fns ul_cx;

/* Loads libclang and resolves the table, once per process (later calls return the first
 * call's result; thread-safe). Returns 0, or -1 with a static description of what is missing
 * in *why ("libclang-14.so.13: cannot open shared object file ...", or the function the
 * library lacks). */
int ul_clang_load(const char **why);

/* From here on, clang_X(...) in lint/ calls through the table (ul_clang.c, which fills the
 * table by name, goes without). */
#ifndef UL_CLANG_LOADER
#define clang_CompilationDatabase_dispose ul_cx.clang_CompilationDatabase_dispose
#define clang_CompilationDatabase_fromDirectory ul_cx.clang_CompilationDatabase_fromDirectory
#define clang_CompilationDatabase_getAllCompileCommands ul_cx.clang_CompilationDatabase_getAllCompileCommands
#define clang_CompilationDatabase_getCompileCommands ul_cx.clang_CompilationDatabase_getCompileCommands
#define clang_CompileCommand_getArg ul_cx.clang_CompileCommand_getArg
#define clang_CompileCommand_getDirectory ul_cx.clang_CompileCommand_getDirectory
#define clang_CompileCommand_getFilename ul_cx.clang_CompileCommand_getFilename
#define clang_CompileCommand_getNumArgs ul_cx.clang_CompileCommand_getNumArgs
#define clang_CompileCommands_dispose ul_cx.clang_CompileCommands_dispose
#define clang_CompileCommands_getCommand ul_cx.clang_CompileCommands_getCommand
#define clang_CompileCommands_getSize ul_cx.clang_CompileCommands_getSize
#define clang_Cursor_getStorageClass ul_cx.clang_Cursor_getStorageClass
#define clang_Cursor_hasAttrs ul_cx.clang_Cursor_hasAttrs
#define clang_Cursor_isNull ul_cx.clang_Cursor_isNull
#define clang_File_tryGetRealPathName ul_cx.clang_File_tryGetRealPathName
#define clang_Location_isFromMainFile ul_cx.clang_Location_isFromMainFile
#define clang_createIndex ul_cx.clang_createIndex
#define clang_defaultReparseOptions ul_cx.clang_defaultReparseOptions
#define clang_disposeDiagnostic ul_cx.clang_disposeDiagnostic
#define clang_disposeIndex ul_cx.clang_disposeIndex
#define clang_disposeString ul_cx.clang_disposeString
#define clang_disposeTokens ul_cx.clang_disposeTokens
#define clang_disposeTranslationUnit ul_cx.clang_disposeTranslationUnit
#define clang_getCString ul_cx.clang_getCString
#define clang_getCanonicalCursor ul_cx.clang_getCanonicalCursor
#define clang_getCursor ul_cx.clang_getCursor
#define clang_getCursorDefinition ul_cx.clang_getCursorDefinition
#define clang_getCursorExtent ul_cx.clang_getCursorExtent
#define clang_getCursorKind ul_cx.clang_getCursorKind
#define clang_getCursorLinkage ul_cx.clang_getCursorLinkage
#define clang_getCursorLocation ul_cx.clang_getCursorLocation
#define clang_getCursorReferenced ul_cx.clang_getCursorReferenced
#define clang_getCursorSpelling ul_cx.clang_getCursorSpelling
#define clang_getDiagnostic ul_cx.clang_getDiagnostic
#define clang_getDiagnosticLocation ul_cx.clang_getDiagnosticLocation
#define clang_getDiagnosticSeverity ul_cx.clang_getDiagnosticSeverity
#define clang_getDiagnosticSpelling ul_cx.clang_getDiagnosticSpelling
#define clang_getFile ul_cx.clang_getFile
#define clang_getFileLocation ul_cx.clang_getFileLocation
#define clang_getFileName ul_cx.clang_getFileName
#define clang_getLocationForOffset ul_cx.clang_getLocationForOffset
#define clang_getNullCursor ul_cx.clang_getNullCursor
#define clang_getNumDiagnostics ul_cx.clang_getNumDiagnostics
#define clang_getRangeEnd ul_cx.clang_getRangeEnd
#define clang_getRangeStart ul_cx.clang_getRangeStart
#define clang_getTokenKind ul_cx.clang_getTokenKind
#define clang_getTokenSpelling ul_cx.clang_getTokenSpelling
#define clang_getTranslationUnitCursor ul_cx.clang_getTranslationUnitCursor
#define clang_getTranslationUnitSpelling ul_cx.clang_getTranslationUnitSpelling
#define clang_hashCursor ul_cx.clang_hashCursor
#define clang_isCursorDefinition ul_cx.clang_isCursorDefinition
#define clang_isDeclaration ul_cx.clang_isDeclaration
#define clang_isInvalid ul_cx.clang_isInvalid
#define clang_parseTranslationUnit2 ul_cx.clang_parseTranslationUnit2
#define clang_reparseTranslationUnit ul_cx.clang_reparseTranslationUnit
#define clang_tokenize ul_cx.clang_tokenize
#define clang_visitChildren ul_cx.clang_visitChildren
#endif

#endif
