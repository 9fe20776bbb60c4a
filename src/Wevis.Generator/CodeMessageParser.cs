using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Wevis.Generator.Model;

namespace Wevis.Generator
{
    /// <summary>
    /// Reads a <c>[WevisMessage]</c> partial record into a <see cref="CodeMessageSpec"/>. Symbols are used here
    /// and only here; what leaves this class is plain values.
    /// </summary>
    internal static class CodeMessageParser
    {
        public const string AttributeMetadataName = "Wevis.WevisMessageAttribute";

        public static bool IsCandidate(SyntaxNode node, CancellationToken cancellationToken) => node is TypeDeclarationSyntax;

        public static CodeMessageSpec Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
        {
            var diagnostics = new List<DiagnosticInfo>();
            var declaration = (TypeDeclarationSyntax)context.TargetNode;
            var type = (INamedTypeSymbol)context.TargetSymbol;
            LocationInfo nameLocation = LocationInfo.From(declaration.Identifier.GetLocation())
                ?? LocationInfo.From(string.Empty, default, default);

            bool isRecordClass = declaration is RecordDeclarationSyntax record && !record.ClassOrStructKeyword.IsKind(SyntaxKind.StructKeyword);
            if (!isRecordClass || !declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
            {
                return Fail(DiagnosticInfo.Create(DiagnosticDescriptors.CodeMessageNotPartialRecord, nameLocation, type.Name));
            }

            if (type.ContainingType is not null)
            {
                return Fail(DiagnosticInfo.Create(DiagnosticDescriptors.CodeMessageShape, nameLocation, type.Name, "nested in another type"));
            }

            if (type.IsGenericType)
            {
                return Fail(DiagnosticInfo.Create(DiagnosticDescriptors.CodeMessageShape, nameLocation, type.Name, "generic"));
            }

            if (type.IsAbstract)
            {
                return Fail(DiagnosticInfo.Create(DiagnosticDescriptors.CodeMessageShape, nameLocation, type.Name, "abstract"));
            }

            if (type.BaseType is { SpecialType: not SpecialType.System_Object })
            {
                return Fail(DiagnosticInfo.Create(DiagnosticDescriptors.CodeMessageShape, nameLocation, type.Name, "derived from another record"));
            }

            if (type.Name[0] == '_')
            {
                return Fail(DiagnosticInfo.Create(
                    DiagnosticDescriptors.ReservedName, nameLocation, type.Name, "names starting with '_' belong to the Wevis protocol"));
            }

            if (type.Name == WireNames.RegistryClassName)
            {
                return Fail(DiagnosticInfo.Create(
                    DiagnosticDescriptors.ReservedName, nameLocation, type.Name, "it is the name of the generated registry class"));
            }

            if (!WireNames.IsValidMessageName(type.Name))
            {
                return Fail(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidMessageName, nameLocation, type.Name));
            }

            // The positional parameters are the message's arguments, in order.
            var arguments = new List<ArgumentSpec>();
            var parameterNames = new HashSet<string>();
            bool hasErrors = false;
            ParameterListSyntax? parameterList = FindParameterList(type, cancellationToken);
            foreach (ParameterSyntax parameter in parameterList?.Parameters ?? default)
            {
                IParameterSymbol? symbol = context.SemanticModel.GetDeclaredSymbol(parameter, cancellationToken);
                string parameterName = parameter.Identifier.ValueText;
                parameterNames.Add(parameterName);
                WireType? wireType = symbol is null ? null : MapType(symbol.Type);
                if (wireType is null)
                {
                    LocationInfo? location = LocationInfo.From(parameter.Type?.GetLocation() ?? parameter.GetLocation());
                    string typeText = symbol?.Type.ToDisplayString() ?? parameter.Type?.ToString() ?? "?";
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedArgumentType, location, parameterName, type.Name, typeText));
                    hasErrors = true;
                    continue;
                }

                arguments.Add(new ArgumentSpec(parameterName, parameterName, wireType.Value));
            }

            foreach (ISymbol member in type.GetMembers())
            {
                if (member is IPropertySymbol { IsStatic: false, IsImplicitlyDeclared: false } property
                    && !parameterNames.Contains(property.Name)
                    && property.Name != "EqualityContract"
                    && property.ExplicitInterfaceImplementations.IsEmpty)
                {
                    LocationInfo? location = property.Locations.Length > 0 ? LocationInfo.From(property.Locations[0]) : null;
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.PropertyNotSent, location, property.Name, type.Name));
                }
            }

            if (hasErrors)
            {
                return new CodeMessageSpec(null, diagnostics.ToImmutableEquatableArray());
            }

            string @namespace = type.ContainingNamespace.IsGlobalNamespace ? string.Empty : type.ContainingNamespace.ToDisplayString();
            string definition = type.Name + string.Concat(arguments.Select(a => " " + a.Name + "=" + WireNames.Keyword(a.Type)));
            var message = new MessageSpec(
                type.Name,
                type.Name,
                @namespace,
                WireNames.WireId(type.Name),
                arguments.ToImmutableEquatableArray(),
                MessageOrigin.Code,
                Path.GetFileName(nameLocation.FilePath),
                nameLocation.StartLine + 1,
                definition,
                nameLocation);
            return new CodeMessageSpec(message, diagnostics.ToImmutableEquatableArray());

            CodeMessageSpec Fail(DiagnosticInfo diagnostic)
            {
                diagnostics.Add(diagnostic);
                return new CodeMessageSpec(null, diagnostics.ToImmutableEquatableArray());
            }
        }

        /// <summary>The primary constructor's parameter list, from whichever partial declaration has it.</summary>
        private static ParameterListSyntax? FindParameterList(INamedTypeSymbol type, CancellationToken cancellationToken)
        {
            foreach (SyntaxReference reference in type.DeclaringSyntaxReferences)
            {
                if (reference.GetSyntax(cancellationToken) is RecordDeclarationSyntax { ParameterList: { } list })
                {
                    return list;
                }
            }

            return null;
        }

        private static WireType? MapType(ITypeSymbol type)
        {
            if (type.NullableAnnotation == NullableAnnotation.Annotated)
            {
                return null;
            }

            switch (type.SpecialType)
            {
                case SpecialType.System_Int32: return WireType.Int32;
                case SpecialType.System_Int64: return WireType.Int64;
                case SpecialType.System_Double: return WireType.Double;
                case SpecialType.System_Boolean: return WireType.Boolean;
                case SpecialType.System_String: return WireType.String;
            }

            if (type is IArrayTypeSymbol { Rank: 1 } array && array.ElementType.NullableAnnotation != NullableAnnotation.Annotated)
            {
                switch (array.ElementType.SpecialType)
                {
                    case SpecialType.System_Byte: return WireType.Bytes;
                    case SpecialType.System_Single: return WireType.SingleArray;
                    case SpecialType.System_Double: return WireType.DoubleArray;
                }
            }

            return null;
        }
    }
}
