using System;
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

        private const string BoundAttributeName = "Wevis.WevisBoundAttribute";
        private const string RepliesProperty = "Replies";

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

            // The parameter list may be in another partial declaration, in another file: bind it with its own tree's model.
            SemanticModel parameterModel = parameterList is null || parameterList.SyntaxTree == context.SemanticModel.SyntaxTree
                ? context.SemanticModel
                : context.SemanticModel.Compilation.GetSemanticModel(parameterList.SyntaxTree);
            foreach (ParameterSyntax parameter in parameterList?.Parameters ?? default)
            {
                IParameterSymbol? symbol = parameterModel.GetDeclaredSymbol(parameter, cancellationToken);
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

                int? bound = symbol is null ? 0 : ReadBound(symbol, parameterName, wireType.Value, diagnostics, cancellationToken);
                if (bound is null)
                {
                    hasErrors = true;
                    continue;
                }

                arguments.Add(new ArgumentSpec(
                    parameterName,
                    parameterName,
                    wireType.Value,
                    bound.Value,
                    LocationInfo.From(parameter.Identifier.GetLocation()),
                    parameter.Type is null ? null : LocationInfo.From(parameter.Type.GetLocation())));
            }

            AttributeData attribute = context.Attributes[0];
            Direction direction = ReadDirection(attribute, type.Name, diagnostics, cancellationToken, out LocationInfo? directionLocation);
            hasErrors |= direction == 0;
            List<ReplySpec> replies = ReadReplies(attribute, type.Name, diagnostics, cancellationToken, out LocationInfo? repliesLocation, ref hasErrors);
            if (replies.Count > 0 && direction == Direction.ServerToClient)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.RequestSentByServer, repliesLocation ?? nameLocation, type.Name));
                hasErrors = true;
            }

            // A member outside the primary constructor is worth a warning only if it holds state the message loses on
            // the way: a plain instance field, or a property with a backing field or a setter. A computed property
            // (Total => A + B) is computed again; a const or static member is not the message's.
            var backedProperties = new HashSet<ISymbol>(SymbolEqualityComparer.Default);
            foreach (ISymbol member in type.GetMembers())
            {
                if (member is IFieldSymbol { IsStatic: false, AssociatedSymbol: IPropertySymbol backed })
                {
                    backedProperties.Add(backed);
                }
            }

            var notSent = new List<(ISymbol Member, string Kind)>();
            foreach (ISymbol member in type.GetMembers())
            {
                string? kind = member switch
                {
                    IFieldSymbol { IsStatic: false, IsConst: false, IsImplicitlyDeclared: false, AssociatedSymbol: null } => "Field",
                    IPropertySymbol { IsStatic: false, IsImplicitlyDeclared: false } property
                        when property.Name != "EqualityContract"
                            && property.ExplicitInterfaceImplementations.IsEmpty
                            && (property.SetMethod is not null || backedProperties.Contains(property)) => "Property",
                    _ => null,
                };
                if (kind is not null && !parameterNames.Contains(member.Name))
                {
                    notSent.Add((member, kind));
                }
            }

            // A field that a reported property's accessors use (private int _y; public int Y { get => _y; init => _y = value; })
            // is that property's state, written by hand: one member to the user, reported once, at the property.
            HashSet<ISymbol> behindProperties = FieldsBehindProperties(
                type,
                new HashSet<string>(notSent.Where(m => m.Kind == "Property").Select(m => m.Member.Name), StringComparer.Ordinal),
                context.SemanticModel.Compilation,
                cancellationToken);
            foreach ((ISymbol member, string kind) in notSent)
            {
                if (member is IFieldSymbol && behindProperties.Contains(member))
                {
                    continue;
                }

                LocationInfo? location = member.Locations.Length > 0 ? LocationInfo.From(member.Locations[0]) : null;
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MemberNotSent, location, kind, member.Name, type.Name));
            }

            if (hasErrors)
            {
                return new CodeMessageSpec(null, diagnostics.ToImmutableEquatableArray(), type.Name);
            }

            string @namespace = type.ContainingNamespace.IsGlobalNamespace ? string.Empty : type.ContainingNamespace.ToDisplayString();
            var message = new MessageSpec(
                type.Name,
                type.Name,
                @namespace,
                WireNames.WireId(type.Name),
                arguments.ToImmutableEquatableArray(),
                MessageOrigin.Code,
                Path.GetFileName(nameLocation.FilePath),
                nameLocation.StartLine + 1,
                DefinitionsParser.DefinitionText(type.Name, direction, arguments, replies),
                nameLocation,
                direction,
                directionLocation,
                replies.ToImmutableEquatableArray(),
                repliesLocation,
                0);
            return new CodeMessageSpec(message, diagnostics.ToImmutableEquatableArray(), type.Name);

            CodeMessageSpec Fail(DiagnosticInfo diagnostic)
            {
                diagnostics.Add(diagnostic);
                return new CodeMessageSpec(null, diagnostics.ToImmutableEquatableArray(), type.Name);
            }
        }

        /// <summary>
        /// The type's own instance fields that the accessors of the named properties read or write, in any of the type's
        /// declarations (the property may be in another part of the record, or another file, than the field).
        /// </summary>
        private static HashSet<ISymbol> FieldsBehindProperties(
            INamedTypeSymbol type, HashSet<string> propertyNames, Compilation compilation, CancellationToken cancellationToken)
        {
            var fields = new HashSet<ISymbol>(SymbolEqualityComparer.Default);
            if (propertyNames.Count == 0)
            {
                return fields;
            }

            foreach (SyntaxReference reference in type.DeclaringSyntaxReferences)
            {
                if (reference.GetSyntax(cancellationToken) is not TypeDeclarationSyntax declaration)
                {
                    continue;
                }

                SemanticModel? model = null;
                foreach (PropertyDeclarationSyntax property in declaration.Members.OfType<PropertyDeclarationSyntax>())
                {
                    if (!propertyNames.Contains(property.Identifier.ValueText))
                    {
                        continue;
                    }

                    // A reported property has a get with a set or init (one written as => has neither).
                    foreach (IdentifierNameSyntax name in property.AccessorList?.DescendantNodes().OfType<IdentifierNameSyntax>() ?? [])
                    {
                        model ??= compilation.GetSemanticModel(declaration.SyntaxTree);
                        if (model.GetSymbolInfo(name, cancellationToken).Symbol is IFieldSymbol { IsStatic: false } field
                            && SymbolEqualityComparer.Default.Equals(field.ContainingType, type))
                        {
                            fields.Add(field);
                        }
                    }
                }
            }

            return fields;
        }

        /// <summary>A parameter's <c>[WevisBound(N)]</c>: N, 0 without one, or null (reported) if it is not a valid bound for the type.</summary>
        private static int? ReadBound(IParameterSymbol parameter, string parameterName, WireType type, List<DiagnosticInfo> diagnostics, CancellationToken cancellationToken)
        {
            foreach (AttributeData attribute in parameter.GetAttributes())
            {
                if (attribute.AttributeClass?.ToDisplayString() != BoundAttributeName || attribute.ConstructorArguments.Length != 1)
                {
                    continue;
                }

                LocationInfo? location = attribute.ApplicationSyntaxReference is { } reference
                    ? LocationInfo.From(reference.GetSyntax(cancellationToken).GetLocation())
                    : null;
                object? value = attribute.ConstructorArguments[0].Value;
                if (value is not int bound || bound < 1)
                {
                    string text = System.Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "?";
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidBound, location, "(" + text + ")", parameterName, WireNames.Keyword(type)));
                    return null;
                }

                if (!WireNames.IsReference(type))
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.BoundOnFixedSizeType, location, parameterName, WireNames.CSharpType(type)));
                    return null;
                }

                return bound;
            }

            return 0;
        }

        /// <summary>The attribute's direction; 0 (reported) if it is not one of the three.</summary>
        private static Direction ReadDirection(
            AttributeData attribute, string typeName, List<DiagnosticInfo> diagnostics, CancellationToken cancellationToken, out LocationInfo? location)
        {
            location = null;
            if (attribute.ConstructorArguments.Length != 1)
            {
                return Direction.Both;
            }

            if (attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) is AttributeSyntax { ArgumentList: { Arguments.Count: > 0 } list })
            {
                location = LocationInfo.From(list.Arguments[0].GetLocation());
            }

            object? value = attribute.ConstructorArguments[0].Value;
            if (value is int number && number is (int)Direction.ClientToServer or (int)Direction.ServerToClient or (int)Direction.Both)
            {
                return (Direction)number;
            }

            diagnostics.Add(DiagnosticInfo.Create(
                DiagnosticDescriptors.InvalidDirection,
                location,
                System.Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "?",
                $"give '{typeName}' MessageDirection.ClientToServer, MessageDirection.ServerToClient or MessageDirection.Both"));
            return 0;
        }

        /// <summary>The attribute's <c>Replies = [typeof(…), …]</c>, each located at its <c>typeof</c>.</summary>
        private static List<ReplySpec> ReadReplies(
            AttributeData attribute, string typeName, List<DiagnosticInfo> diagnostics, CancellationToken cancellationToken, out LocationInfo? location, ref bool hasErrors)
        {
            var replies = new List<ReplySpec>();
            location = null;
            TypedConstant? found = null;
            foreach (KeyValuePair<string, TypedConstant> named in attribute.NamedArguments)
            {
                if (named.Key == RepliesProperty)
                {
                    found = named.Value;
                }
            }

            if (found is not { Kind: TypedConstantKind.Array, IsNull: false } array)
            {
                return replies;
            }

            // The syntax of each typeof, so that an error points at the one that is wrong.
            var elements = new List<ExpressionSyntax>();
            if (attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) is AttributeSyntax { ArgumentList: { } list })
            {
                foreach (AttributeArgumentSyntax argument in list.Arguments)
                {
                    if (argument.NameEquals?.Name.Identifier.ValueText == RepliesProperty)
                    {
                        location = LocationInfo.From(argument.GetLocation());
                        elements.AddRange(argument.Expression.DescendantNodes().OfType<TypeOfExpressionSyntax>());
                    }
                }
            }

            var seen = new HashSet<string>();
            for (int i = 0; i < array.Values.Length; i++)
            {
                LocationInfo? replyLocation = i < elements.Count ? LocationInfo.From(elements[i].GetLocation()) : location;
                if (array.Values[i].Value is not INamedTypeSymbol reply)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnknownReply, replyLocation, "null", typeName));
                    hasErrors = true;
                    continue;
                }

                if (!seen.Add(reply.Name))
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DuplicateReply, replyLocation, reply.Name, typeName));
                    hasErrors = true;
                    continue;
                }

                replies.Add(new ReplySpec(reply.Name, reply.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat), replyLocation));
            }

            return replies;
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
